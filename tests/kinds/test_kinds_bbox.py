"""Every validation rule of the bounding-box kind, each with bad input and its message."""

import pytest
from django.core.exceptions import ValidationError

import kinds

KIND = kinds.get("bbox")
SCHEMA = {
    "labels": [
        {"name": "cat", "colour": "#e6194b", "hotkey": 1},
        {"name": "dog", "colour": "#3cb44b", "hotkey": 2},
    ],
    "min_size": 4,
    "allow_empty": False,
}
DATA = {"image": "https://example.com/a.jpg", "width": 100, "height": 80}


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def label(**fields):
    return {"name": "cat", "colour": "#e6194b", "hotkey": 1, **fields}


def test_schema_is_normalised_with_defaults():
    cleaned = KIND.clean_schema({"labels": [{"name": " cat "}, {"name": "dog", "hotkey": ""}]})
    assert cleaned == {
        "labels": [
            {"name": "cat", "colour": "#e6194b", "color": "#e6194b", "hotkey": None},
            {"name": "dog", "colour": "#3cb44b", "color": "#3cb44b", "hotkey": None},
        ],
        "min_size": 2,
        "allow_empty": True,
    }
    assert KIND.clean_schema(KIND.default_schema()) == KIND.default_schema()


def test_schema_takes_color_and_a_hotkey_written_as_other_tools_write_them():
    """Label Studio, CVAT and CSS write ``color`` and JSON exports often carry ``"1"``."""
    cleaned = KIND.clean_schema(
        {"labels": [{"name": "cat", "color": "#ff0000", "hotkey": "1"}, {"name": "dog"}]}
    )
    cat, dog = cleaned["labels"]
    assert cat == {"name": "cat", "colour": "#ff0000", "color": "#ff0000", "hotkey": 1}
    assert dog["hotkey"] is None


@pytest.mark.parametrize(
    ("schema", "path", "message"),
    [
        ([], "__all__", "must be a JSON object"),
        ({}, "labels", "at least one label"),
        ({"labels": []}, "labels", "at least one label"),
        ({"labels": [{"name": f"l{i}"} for i in range(51)]}, "labels", "At most 50 labels"),
        ({"labels": ["cat"]}, "labels.0", "must be an object with a name"),
        ({"labels": [{"name": "  "}]}, "labels.0.name", "needs a name"),
        ({"labels": [{"name": 5}]}, "labels.0.name", "needs a name"),
        ({"labels": [{"name": "x" * 101}]}, "labels.0.name", "at most 100 characters"),
        ({"labels": [{"name": "Cat"}, {"name": "cat"}]}, "labels.1.name", "given twice"),
        ({"labels": [label(colour="red")]}, "labels.0.colour", "#rrggbb"),
        ({"labels": [{"name": "cat", "color": "red"}]}, "labels.0.color", "#rrggbb"),
        ({"labels": [label(color="#000000")]}, "labels.0.color", "colour once"),
        ({"labels": [label(hotkey="0")]}, "labels.0.hotkey", "digit from 1 to 9"),
        ({"labels": [label(hotkey="12")]}, "labels.0.hotkey", "digit from 1 to 9"),
        ({"labels": [label(hotkey="a")]}, "labels.0.hotkey", "digit from 1 to 9"),
        ({"labels": [label(hotkey=0)]}, "labels.0.hotkey", "digit from 1 to 9"),
        ({"labels": [label(hotkey=True)]}, "labels.0.hotkey", "digit from 1 to 9"),
        (
            {"labels": [label(), label(name="dog", hotkey=1)]},
            "labels.1.hotkey",
            "used by another label",
        ),
        ({"labels": [label()], "min_size": -1}, "min_size", "from 0 to 10000"),
        ({"labels": [label()], "min_size": "3"}, "min_size", "from 0 to 10000"),
        ({"labels": [label()], "allow_empty": "yes"}, "allow_empty", "true or false"),
        ({"labels": [label()], "colours": []}, "colours", "Unknown setting"),
    ],
)
def test_bad_schema_is_refused_with_a_path(schema, path, message):
    errors = errors_of(lambda: KIND.clean_schema(schema))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


def test_good_data_passes_unchanged():
    assert KIND.clean_data(dict(DATA), schema=SCHEMA) == DATA
    assert KIND.clean_data({"image": "/tasks/1/media/"}, schema=SCHEMA)


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ("x", "data", "must be a JSON object"),
        ({}, "data.image", "needs an image"),
        ({"image": ""}, "data.image", "needs an image"),
        ({"image": "ftp://x/a.jpg"}, "data.image", "http(s) URL or an uploaded file"),
        ({"image": "https://x/" + "a" * 2000}, "data.image", "at most 2000 characters"),
        ({"image": "https://x/a.jpg", "width": 0, "height": 5}, "data.width", "above 0"),
        ({"image": "https://x/a.jpg", "width": 5, "height": 2.5}, "data.height", "whole number"),
        ({"image": "https://x/a.jpg", "width": 5}, "data.height", "width and height together"),
    ],
)
def test_bad_data_is_refused_with_a_path(data, path, message):
    errors = errors_of(lambda: KIND.clean_data(data, schema=SCHEMA))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


def box(**fields):
    return {"label": "cat", "x": 10, "y": 10, "w": 20, "h": 20, **fields}


def test_good_result_is_cleaned_to_its_boxes():
    result = {"boxes": [box(extra="dropped")]}
    assert KIND.clean_result(result, schema=SCHEMA, data=DATA) == {"boxes": [box()]}


@pytest.mark.parametrize(
    ("result", "path", "message"),
    [
        ([], "result", "must be a JSON object"),
        ({}, "result.boxes", "list of boxes"),
        ({"boxes": [box()] * 1001}, "result.boxes", "At most 1000 boxes"),
        ({"boxes": ["cat"]}, "result.boxes.0", "is an object"),
        ({"boxes": [box(label="bird")]}, "result.boxes.0.label", "Unknown label 'bird'"),
        ({"boxes": [box(label=["cat"])]}, "result.boxes.0.label", "Unknown label"),
        ({"boxes": [box(x="1")]}, "result.boxes.0.x", "number of pixels"),
        ({"boxes": [box(h=None)]}, "result.boxes.0.h", "number of pixels"),
        ({"boxes": [box(x=-1)]}, "result.boxes.0", "starts inside the image"),
        ({"boxes": [box(w=0)]}, "result.boxes.0", "width and a height above 0"),
        ({"boxes": [box(w=3)]}, "result.boxes.0", "at least 4 pixels"),
        ({"boxes": [box(x=90)]}, "result.boxes.0", "x + w at most its width"),
        ({"boxes": [box(y=70)]}, "result.boxes.0", "y + h at most its height"),
        ({"boxes": []}, "result.boxes", "does not accept empty images"),
    ],
)
def test_bad_result_is_refused_with_a_path(result, path, message):
    errors = errors_of(lambda: KIND.clean_result(result, schema=SCHEMA, data=DATA))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


def test_empty_result_is_fine_when_the_schema_allows_it():
    schema = {**SCHEMA, "allow_empty": True}
    assert KIND.clean_result({"boxes": []}, schema=schema, data=DATA) == {"boxes": []}
