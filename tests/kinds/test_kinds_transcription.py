"""Every validation rule of the transcription kind, each with bad input and its message."""

import pytest
from django.core.exceptions import ValidationError

import kinds

KIND = kinds.get("transcription")
AUDIO = {"media": "audio", "normalisation": ["lowercase"], "segments": True}
PLAIN = {"media": "audio", "normalisation": [], "segments": False}
DATA = {"audio": "https://example.com/a.flac"}


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_schema_is_normalised_with_defaults():
    assert KIND.clean_schema({}) == {
        "media": "audio",
        "normalisation": ["collapse_whitespace", "lowercase", "strip_punctuation"],
        "segments": False,
    }
    assert KIND.clean_schema({"normalisation": ["lowercase", "lowercase"]})["normalisation"] == [
        "lowercase"
    ]


@pytest.mark.parametrize(
    ("schema", "path", "message"),
    [
        (None, "__all__", "must be a JSON object"),
        ({"media": "video"}, "media", "'audio' or 'image'"),
        ({"normalisation": "lowercase"}, "normalisation", "Rules are chosen from"),
        ({"normalisation": ["stem"]}, "normalisation", "Rules are chosen from"),
        ({"segments": "yes"}, "segments", "true or false"),
        ({"media": "image", "segments": True}, "segments", "only make sense for audio"),
        ({"language": "en"}, "language", "Unknown setting"),
    ],
)
def test_bad_schema_is_refused_with_a_path(schema, path, message):
    errors = errors_of(lambda: KIND.clean_schema(schema))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


@pytest.mark.parametrize(
    ("data", "schema", "path", "message"),
    [
        ("x", AUDIO, "data", "must be a JSON object"),
        ({}, AUDIO, "data.audio", "needs an audio"),
        ({"image": "https://x/a.png"}, AUDIO, "data.audio", "needs an audio"),
        (DATA, {**PLAIN, "media": "image"}, "data.image", "needs an image"),
        ({"audio": "file.flac"}, AUDIO, "data.audio", "http(s) URL or an uploaded file"),
        ({**DATA, "draft": 3}, AUDIO, "data.draft", "draft is text"),
    ],
)
def test_bad_data_is_refused_with_a_path(data, schema, path, message):
    errors = errors_of(lambda: KIND.clean_data(data, schema=schema))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors


def test_good_results_are_cleaned():
    result = {"text": "hello there", "segments": [{"start": 0, "end": 1.5, "text": "hello"}]}
    assert KIND.clean_result(result, schema=AUDIO, data=DATA) == result
    assert KIND.clean_result({"text": "hi", "x": 1}, schema=PLAIN, data=DATA) == {"text": "hi"}


def seg(start, end, text="t"):
    return {"start": start, "end": end, "text": text}


@pytest.mark.parametrize(
    ("result", "schema", "path", "message"),
    [
        ([], AUDIO, "result", "must be a JSON object"),
        ({}, AUDIO, "result.text", "transcript is text"),
        ({"text": "x" * 100_001}, AUDIO, "result.text", "at most 100000"),
        ({"text": "a", "segments": [seg(0, 1)]}, PLAIN, "result.segments", "does not take"),
        ({"text": "a", "segments": "0-1"}, AUDIO, "result.segments", "a list of {start, end"),
        ({"text": "a", "segments": ["x"]}, AUDIO, "result.segments.0", "is an object"),
        ({"text": "a", "segments": [seg(1, 1)]}, AUDIO, "result.segments.0", "start < end"),
        ({"text": "a", "segments": [seg(-1, 1)]}, AUDIO, "result.segments.0", "start < end"),
        ({"text": "a", "segments": [seg("0", 1)]}, AUDIO, "result.segments.0", "start < end"),
        (
            {"text": "a", "segments": [seg(0, 2), seg(1, 3)]},
            AUDIO,
            "result.segments.1",
            "do not overlap",
        ),
        (
            {"text": "a", "segments": [seg(0, 1, None)]},
            AUDIO,
            "result.segments.0.text",
            "text is text",
        ),
    ],
)
def test_bad_result_is_refused_with_a_path(result, schema, path, message):
    errors = errors_of(lambda: KIND.clean_result(result, schema=schema, data=DATA))
    assert path in errors, errors
    assert any(message in text for text in errors[path]), errors
