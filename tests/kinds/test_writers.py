"""Each dataset writer, read back with the consumer a customer would use."""

import csv
import io
import json
import zipfile
from xml.etree import ElementTree as ET

import pytest
from pycocotools.coco import COCO

from kinds.bbox import formats as boxes
from kinds.formats import ExportItem
from kinds.ranking import formats as preferences
from kinds.transcription import formats as transcripts
from tests.kinds.hf_datasets import CONVERSATIONAL, STANDARD, load_jsonl

LABELS = ["cat", "dog"]


def image_items():
    return [
        ExportItem(
            task_id=1,
            external_id="img-1",
            data={"image": "https://cdn.example/pets/cat.jpg"},
            media_name="https://cdn.example/pets/cat.jpg",
            width=200,
            height=100,
            result={
                "boxes": [
                    {"label": "cat", "x": 10, "y": 20, "w": 50, "h": 40},
                    {"label": "dog", "x": 100, "y": 0, "w": 100, "h": 100},
                ]
            },
        ),
        ExportItem(
            task_id=2,
            external_id="img-2",
            data={"image": "/tasks/2/media/"},
            media_name="empty.png",
            width=64,
            height=64,
            result={"boxes": []},
        ),
    ]


def collect(chunks) -> bytes:
    return b"".join(chunks)


def test_coco_export_loads_in_pycocotools(tmp_path):
    path = tmp_path / "coco.json"
    path.write_bytes(collect(boxes.coco(image_items, labels=LABELS)))
    coco = COCO(str(path))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == LABELS
    image = coco.loadImgs([1])[0]
    assert (image["file_name"], image["width"], image["height"]) == ("cat.jpg", 200, 100)
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [a["bbox"] for a in anns] == [[10, 20, 50, 40], [100, 0, 100, 100]]
    assert [coco.loadCats(a["category_id"])[0]["name"] for a in anns] == ["cat", "dog"]
    assert coco.getAnnIds(imgIds=[2]) == []


def test_yolo_export_has_classes_and_normalised_centres():
    archive = zipfile.ZipFile(io.BytesIO(collect(boxes.yolo(image_items, labels=LABELS))))
    assert archive.read("classes.txt").decode().split() == LABELS
    lines = archive.read("labels/cat.txt").decode().splitlines()
    cls, cx, cy, w, h = lines[0].split()
    assert cls == "0"
    assert float(cx) == pytest.approx(35 / 200)
    assert float(cy) == pytest.approx(40 / 100)
    assert (float(w), float(h)) == pytest.approx((0.25, 0.4))
    assert lines[1].startswith("1 0.750000 0.500000 0.500000 1.000000")
    assert archive.read("labels/empty.txt") == b""


def test_yolo_names_stay_unique_and_inside_the_archive():
    items = [
        ExportItem(task_id=n, external_id="", data={}, media_name=name, width=10, height=10,
                   result={"boxes": []})
        for n, name in [(1, "a/b/same.jpg"), (2, "c/same.jpg"), (3, "../../etc/passwd")]
    ]  # fmt: skip
    names = zipfile.ZipFile(
        io.BytesIO(collect(boxes.yolo(lambda: items, labels=LABELS)))
    ).namelist()
    assert "labels/same.txt" in names
    assert "labels/same-2.txt" in names
    assert all(".." not in name for name in names)


def test_voc_export_is_one_xml_document_per_image():
    archive = zipfile.ZipFile(io.BytesIO(collect(boxes.voc(image_items, labels=LABELS))))
    root = ET.fromstring(archive.read("Annotations/cat.xml"))
    assert root.findtext("size/width") == "200"
    objects = root.findall("object")
    assert [o.findtext("name") for o in objects] == ["cat", "dog"]
    box = objects[0].find("bndbox")
    assert [box.findtext(k) for k in ("xmin", "ymin", "xmax", "ymax")] == ["10", "20", "60", "60"]


def ranking_items():
    return [
        ExportItem(
            task_id=7,
            external_id="p-7",
            data={
                "prompt": "Hi?",
                "responses": [{"id": "a", "text": "A!"}, {"id": "b", "text": "B."}],
            },
            result={"preference": "b", "strength": 2},
            confidence=0.9,
        ),
        ExportItem(
            task_id=8,
            external_id="",
            data={
                "messages": [{"role": "user", "content": "Pick"}],
                "responses": [
                    {"id": "x", "text": "X"},
                    {"id": "y", "text": "Y"},
                    {"id": "z", "text": "Z"},
                ],
            },
            result={
                "order": ["z", "x", "y"],
                "criteria": {"honesty": "z"},
                "rationale": "z is right",
            },
        ),
        ExportItem(
            task_id=9,
            external_id="",
            data={
                "prompt": "Tie?",
                "responses": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}],
            },
            result={"preference": "tie", "strength": 1},
        ),
    ]


def dpo_lines(items, style) -> list[dict]:
    return [json.loads(line) for line in collect(preferences.dpo(items, style=style)).splitlines()]


def test_dpo_export_writes_one_line_per_implied_pair():
    lines = dpo_lines(ranking_items, "conversational")
    assert lines[0] == {
        "prompt": [{"role": "user", "content": "Hi?"}],
        "chosen": [{"role": "assistant", "content": "B."}],
        "rejected": [{"role": "assistant", "content": "A!"}],
        "confidence": 0.9, "task_id": 7, "external_id": "p-7", "chosen_id": "b", "rejected_id": "a",
    }  # fmt: skip
    chat = [line for line in lines if line["task_id"] == 8]
    assert [(line["chosen_id"], line["rejected_id"]) for line in chat] == [
        ("z", "x"), ("z", "y"), ("x", "y")
    ]  # fmt: skip
    assert chat[0]["prompt"] == [{"role": "user", "content": "Pick"}]
    assert chat[0]["chosen"] == [{"role": "assistant", "content": "Z"}]
    assert not [line for line in lines if line["task_id"] == 9]  # a tie implies no pair


def test_dpo_export_of_text_and_chat_prompts_loads_as_one_format(tmp_path):
    """Text and chat prompts in one file: every column has one type in ``datasets``."""
    ds = load_jsonl(tmp_path, collect(preferences.dpo(ranking_items, style="conversational")))
    assert ds.features == CONVERSATIONAL
    assert ds[0]["prompt"] == [{"role": "user", "content": "Hi?"}]


def test_dpo_standard_style_writes_text_and_refuses_a_multi_turn_chat(tmp_path):
    lines = dpo_lines(ranking_items, "standard")  # task 8's chat is one user turn
    assert [line["prompt"] for line in lines] == ["Hi?", "Pick", "Pick", "Pick"]
    assert lines[1]["chosen"] == "Z"
    assert (
        load_jsonl(tmp_path, collect(preferences.dpo(ranking_items, style="standard"))).features
        == STANDARD
    )
    chat = ExportItem(
        task_id=5,
        external_id="chat-5",
        data={
            "messages": [
                {"role": "system", "content": "Be brief.", "name": "rules"},
                {"role": "user", "content": "Pick"},
            ],
            "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        },
        result={"preference": "a"},
    )
    with pytest.raises(preferences.StyleRefused, match=r"task 5 \(chat-5\)"):
        dpo_lines(lambda: [chat], "standard")
    (line,) = dpo_lines(lambda: [chat], "conversational")
    assert line["prompt"] == [  # only role and content: one message type for the column
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Pick"},
    ]


def test_rankings_export_keeps_criteria_and_rationale():
    lines = [json.loads(line) for line in collect(preferences.rankings(ranking_items)).splitlines()]
    assert lines[1]["order"] == ["z", "x", "y"]
    assert lines[1]["criteria"] == {"honesty": "z"}
    assert lines[1]["rationale"] == "z is right"
    assert lines[0]["preference"] == "b"


def transcript_items():
    return [
        ExportItem(
            task_id=3,
            external_id="clip-3",
            data={"audio": "/tasks/3/media/"},
            media_name="clip3.flac",
            result={
                "text": '=HYPERLINK("x") hello world',
                "segments": [
                    {"start": 0.0, "end": 1.25, "text": "hello"},
                    {"start": 61.5, "end": 3725.042, "text": "world\n\nagain --> on"},
                ],
            },
        ),
        ExportItem(task_id=4, external_id="", data={"audio": "u"}, result={"text": "plain"}),
    ]


def test_transcript_jsonl_and_csv_round_trip_and_csv_defuses_formulas():
    rows = [json.loads(line) for line in collect(transcripts.jsonl(transcript_items)).splitlines()]
    assert rows[0]["segments"][1]["end"] == 3725.042
    assert rows[1] == {
        "task_id": 4,
        "external_id": "",
        "media": "u",
        "file_name": "u",
        "text": "plain",
        "confidence": None,
        "contributors": [],
    }
    assert (rows[0]["media"], rows[0]["file_name"]) == ("/tasks/3/media/", "clip3.flac")
    table = list(csv.DictReader(io.StringIO(collect(transcripts.csv(transcript_items)).decode())))
    assert table[0]["text"].startswith("'=HYPERLINK")
    assert json.loads(table[0]["segments"])[0]["text"] == "hello"
    assert table[1]["text"] == "plain"


def test_webvtt_and_srt_have_exact_timestamps_and_safe_cues():
    vtt = zipfile.ZipFile(io.BytesIO(collect(transcripts.vtt(transcript_items))))
    # The unsegmented clip has no subtitles, and the archive says so.
    assert vtt.namelist() == ["3-clip3.vtt", "no_segments.txt"]
    assert "task 4 (u): no segments" in vtt.read("no_segments.txt").decode()
    document = vtt.read("3-clip3.vtt").decode()
    assert document.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nhello\n")
    assert "00:01:01.500 --> 01:02:05.042\nworld\nagain → on" in document
    srt = zipfile.ZipFile(io.BytesIO(collect(transcripts.srt(transcript_items))))
    assert (
        srt.read("3-clip3.srt")
        .decode()
        .startswith("1\n00:00:00,000 --> 00:00:01,250\nhello\n\n2\n")
    )
