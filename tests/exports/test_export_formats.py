"""Each export read back with the consumer a customer would use, checked against the DB."""

import csv
import io
import json
import zipfile
from xml.etree import ElementTree as ET

import pytest
from pycocotools.coco import COCO

from annotation.models import Task
from exports.selectors import (
    ExportOptions,
    export_first_long_chat,
    export_has_chat,
    export_items,
)
from labelhub.models import AuditAction, AuditEvent
from quality.models import AnnotationReview, Review, TaskOutcome
from tests.exports.helpers import answer, api, body, make_world, settle
from tests.factories import make_task, make_user
from tests.kinds.hf_datasets import CONVERSATIONAL, STANDARD, load_jsonl

pytestmark = pytest.mark.django_db

CAT = {"label": "cat", "x": 10, "y": 20, "w": 100, "h": 50}
DOG = {"label": "dog", "x": 0, "y": 0, "w": 64, "h": 48}


@pytest.fixture
def boxes_world():
    project, manager, _reviewer, contributor, _outsider = make_world()
    tasks = [
        make_task(project=project, data={"image": f"https://x/img{i}.jpg", "width": 640,
                                         "height": 480}, external_id=f"img-{i}")
        for i in range(3)
    ]  # fmt: skip
    for task, boxes in zip(tasks, [[CAT], [CAT, DOG], []], strict=True):
        answer(task, contributor, {"boxes": boxes})
        settle(task, {"boxes": boxes})
    pending = make_task(project=project, data={"image": "https://x/p.jpg", "width": 10,
                                               "height": 10})  # fmt: skip
    answer(pending, contributor, {"boxes": [{"label": "cat", "x": 1, "y": 1, "w": 5, "h": 5}]})
    settle(pending, {"boxes": [{"label": "cat", "x": 1, "y": 1, "w": 5, "h": 5}]}, accepted=False)
    gold = make_task(project=project, data={"image": "https://x/g.jpg", "width": 100,
                     "height": 100}, is_gold=True, gold={"boxes": [DOG]})  # fmt: skip
    return project, manager, tasks, pending, gold


def export(project, manager, fmt, **params):
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": fmt, **params})
    assert response.status_code == 200, response.content
    return response, body(response)


def accepted_boxes(project) -> dict[int, list]:
    return {
        o.task_id: o.accepted_result["boxes"]
        for o in TaskOutcome.objects.filter(project=project, accepted_result__isnull=False)
    }


def test_coco_export_loads_in_pycocotools_and_matches_the_accepted_boxes(boxes_world, tmp_path):
    project, manager, tasks, _pending, _gold = boxes_world
    response, content = export(project, manager, "coco")
    assert response["Content-Type"] == "application/json"
    assert f'filename="project-{project.pk}-coco-' in response["Content-Disposition"]
    path = tmp_path / "coco.json"
    path.write_bytes(content)
    coco = COCO(str(path))
    assert sorted(coco.getImgIds()) == sorted(t.pk for t in tasks)
    assert {c["name"] for c in coco.loadCats(coco.getCatIds())} == {"cat", "dog"}
    for task_id, boxes in accepted_boxes(project).items():
        image = coco.loadImgs(task_id)[0]
        assert (image["width"], image["height"]) == (640, 480)
        loaded = coco.loadAnns(coco.getAnnIds(imgIds=task_id))
        assert sorted(
            (coco.loadCats(a["category_id"])[0]["name"], *a["bbox"]) for a in loaded
        ) == sorted((b["label"], b["x"], b["y"], b["w"], b["h"]) for b in boxes)


def test_all_results_and_gold_are_included_only_when_asked(boxes_world, tmp_path):
    project, manager, tasks, pending, gold = boxes_world
    _, content = export(project, manager, "coco", accepted_only="false", include_gold="true")
    ids = {image["id"] for image in json.loads(content)["images"]}
    assert ids == {*(t.pk for t in tasks), pending.pk, gold.pk}
    gold_boxes = [a for a in json.loads(content)["annotations"] if a["image_id"] == gold.pk]
    assert [a["bbox"] for a in gold_boxes] == [[0, 0, 64, 48]]


def test_date_range_keeps_results_of_those_days(boxes_world):
    project, manager, _tasks, *_ = boxes_world
    _, content = export(project, manager, "coco", since="2000-01-01", until="2000-01-02")
    assert json.loads(content)["images"] == []
    _, content = export(project, manager, "coco", since="2000-01-01")
    assert len(json.loads(content)["images"]) == 3


def test_yolo_zip_has_classes_and_normalised_boxes(boxes_world):
    project, manager, _tasks, *_ = boxes_world
    response, content = export(project, manager, "yolo")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.read("classes.txt").decode().split() == ["cat", "dog"]
    lines = archive.read("labels/img1.txt").decode().splitlines()
    rows = [[float(v) for v in line.split()] for line in lines]
    assert rows[0] == pytest.approx(
        [0, (10 + 50) / 640, (20 + 25) / 480, 100 / 640, 50 / 480], abs=1e-6
    )
    assert rows[1][0] == 1
    assert archive.read("labels/img2.txt") == b""


def test_voc_zip_has_one_document_per_image(boxes_world):
    project, manager, *_ = boxes_world
    _, content = export(project, manager, "voc")
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert [n for n in archive.namelist() if n.startswith("Annotations/")] == [
        "Annotations/img0.xml",
        "Annotations/img1.xml",
        "Annotations/img2.xml",
    ]
    assert archive.read("ImageSets/Main/trainval.txt") == b"img0\nimg1\nimg2\n"
    root = ET.fromstring(archive.read("Annotations/img1.xml"))
    objects = [
        (o.findtext("name"), [int(o.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax",
                                                                        "ymax")])
        for o in root.iter("object")
    ]  # fmt: skip
    assert objects == [("cat", [10, 20, 110, 70]), ("dog", [0, 0, 64, 48])]
    assert root.findtext("size/width") == "640"


def test_ranking_exports_give_dpo_pairs_and_full_orders():
    project, manager, _reviewer, contributor, _ = make_world(kind="ranking")
    data = {
        "prompt": "Best?",
        "responses": [{"id": x, "text": f"{x.upper()}!"} for x in "abc"],
    }
    task = make_task(project=project, data=data, external_id="p1")
    answer(task, contributor, {"order": ["b", "a", "c"]})
    settle(task, {"order": ["b", "a", "c"], "rationale": "b is right"}, confidence=0.8)
    response, content = export(project, manager, "dpo")
    assert response["Content-Type"] == "application/x-ndjson"
    pairs = [json.loads(line) for line in content.decode().splitlines()]
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [
        ("B!", "A!"),
        ("B!", "C!"),
        ("A!", "C!"),
    ]
    assert all(p["prompt"] == "Best?" and p["confidence"] == 0.8 for p in pairs)
    _, content = export(project, manager, "rankings")
    (row,) = [json.loads(line) for line in content.decode().splitlines()]
    assert row["order"] == ["b", "a", "c"]
    assert row["rationale"] == "b is right"


@pytest.fixture
def chat_world():
    """A ranking project mixing a text prompt, a one-turn chat and (not accepted) a long chat."""
    project, manager, _reviewer, contributor, _ = make_world(kind="ranking")
    responses = [{"id": x, "text": f"{x.upper()}!"} for x in "abc"]
    text = make_task(project=project, data={"prompt": "Best?", "responses": responses},
                     external_id="text-1")  # fmt: skip
    one_turn = make_task(
        project=project,
        data={"messages": [{"role": "user", "content": "Pick"}], "responses": responses[:2]},
        external_id="chat-2",
    )
    long_chat = make_task(
        project=project,
        data={
            "messages": [
                {"role": "system", "content": "Be brief.", "name": "rules"},
                {"role": "user", "content": "Which?"},
            ],
            "responses": responses[:2],
        },
        external_id="chat-3",
    )
    for task, result, confidence in [
        (text, {"order": ["b", "a", "c"]}, 0.8),
        (one_turn, {"preference": "b", "strength": 2}, None),
    ]:
        answer(task, contributor, result)
        settle(task, result, confidence=confidence)
    answer(long_chat, contributor, {"preference": "a", "strength": 1})
    settle(long_chat, {"preference": "a", "strength": 1}, accepted=False)
    return project, manager, long_chat


def test_dpo_export_mixing_prompts_and_messages_loads_as_one_format(chat_world, tmp_path):
    project, manager, _long_chat = chat_world
    _, content = export(project, manager, "dpo", accepted_only="false")
    ds = load_jsonl(tmp_path, content)
    assert ds.features == CONVERSATIONAL  # every column of one type, in every row
    rows = {(row["external_id"], row["chosen_id"], row["rejected_id"]): row for row in ds}
    text = rows[("text-1", "b", "a")]
    assert text["prompt"] == [{"role": "user", "content": "Best?"}]
    assert text["chosen"] == [{"role": "assistant", "content": "B!"}]
    assert text["rejected"] == [{"role": "assistant", "content": "A!"}]
    assert rows[("chat-3", "a", "b")]["prompt"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Which?"},
    ]
    assert len(ds) == 3 + 1 + 1


def test_dpo_standard_style_is_text_and_refused_for_a_multi_turn_chat(chat_world, tmp_path):
    project, manager, long_chat = chat_world
    _, content = export(project, manager, "dpo", style="standard")  # the long chat is not in it
    ds = load_jsonl(tmp_path, content)
    assert ds.features == STANDARD
    assert sorted(row["prompt"] for row in ds) == ["Best?", "Best?", "Best?", "Pick"]
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT_REQUESTED)
    assert exports.get().changes["style"] == "standard"
    response = api(manager).get(
        f"/api/v1/projects/{project.pk}/export/",
        {"format": "dpo", "style": "standard", "accepted_only": "false"},
    )
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "dpo_style_refused"
    assert error["task"] == {"id": long_chat.pk, "external_id": "chat-3"}
    assert f"task {long_chat.pk} (chat-3)" in error["detail"]
    assert set(error) == {"detail", "code", "task"}
    job = api(manager).post(
        f"/api/v1/projects/{project.pk}/exports/",
        {"format": "dpo", "style": "standard", "accepted_only": False},
        format="json",
    )
    assert (job.status_code, job.json()) == (400, error)  # a job is refused the same way
    assert exports.count() == 1  # nothing was taken out


def test_the_up_front_style_queries_read_chats_as_the_writer_does():
    project, *_ = make_world(kind="ranking")
    responses = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]

    def accepted(data: dict, external_id: str) -> Task:
        task = make_task(project=project, data={**data, "responses": responses},
                         external_id=external_id)  # fmt: skip
        settle(task, {"preference": "a", "strength": 1})
        return task

    accepted({"prompt": "Hi?", "messages": None}, "null-messages")
    options = ExportOptions()
    assert not export_has_chat(project=project, options=options)
    accepted({"messages": [{"role": "user", "content": "Hi?"}]}, "one-turn")
    assert export_has_chat(project=project, options=options)
    assert export_first_long_chat(project=project, options=options) is None
    system = accepted({"messages": [{"role": "system", "content": "Rules"}]}, "system")
    accepted({"messages": [{"role": "user", "content": "1"}] * 3}, "three")
    assert export_first_long_chat(project=project, options=options) == (system.pk, "system")


def test_dpo_styles_of_a_project_of_text_prompts(tmp_path):
    project, manager, _reviewer, contributor, _ = make_world(kind="ranking")
    task = make_task(project=project, external_id="t")
    answer(task, contributor, {"preference": "a", "strength": 1})
    settle(task, {"preference": "a", "strength": 1}, confidence=0.5)
    _, content = export(project, manager, "dpo")
    assert load_jsonl(tmp_path / "auto", content).features == STANDARD
    _, content = export(project, manager, "dpo", style="conversational")
    assert load_jsonl(tmp_path / "conversational", content).features == CONVERSATIONAL
    response = api(manager).get(
        f"/api/v1/projects/{project.pk}/export/", {"format": "dpo", "style": "chat"}
    )
    assert response.status_code == 400
    assert "style" in response.json()


@pytest.fixture
def speech_world():
    project, manager, _reviewer, contributor, _ = make_world(kind="transcription")
    task = make_task(project=project, data={"audio": "https://x/clip1.flac"}, external_id="c1")
    result = {
        "text": "=SUM(A1) hello there",
        "segments": [
            {"start": 0.0, "end": 1.5, "text": "=SUM(A1) hello"},
            {"start": 1.5, "end": 2.25, "text": "there"},
        ],
    }
    answer(task, contributor, result)
    settle(task, result)
    return project, manager, task, result


def test_transcription_jsonl_and_csv_match_the_accepted_text(speech_world):
    project, manager, task, result = speech_world
    _, content = export(project, manager, "jsonl")
    (row,) = [json.loads(line) for line in content.decode().splitlines()]
    assert (row["task_id"], row["text"], row["segments"]) == (task.pk, result["text"],
                                                              result["segments"])  # fmt: skip
    response, content = export(project, manager, "csv")
    assert response["Content-Type"].startswith("text/csv")
    (record,) = list(csv.DictReader(io.StringIO(content.decode())))
    assert record["text"] == "'" + result["text"]  # never run as a spreadsheet formula
    assert json.loads(record["segments"]) == result["segments"]


def test_webvtt_export_has_one_cue_per_segment(speech_world):
    project, manager, _task, _ = speech_world
    _, content = export(project, manager, "vtt")
    archive = zipfile.ZipFile(io.BytesIO(content))
    (name,) = archive.namelist()
    text = archive.read(name).decode()
    assert text.startswith("WEBVTT\n")
    assert "00:00:00.000 --> 00:00:01.500" in text
    assert "00:00:01.500 --> 00:00:02.250" in text


def test_audit_trail_has_every_annotation_with_pseudonymous_people_and_verdicts(boxes_world):
    project, manager, tasks, _pending, _gold = boxes_world
    contributor = tasks[0].annotations.get().contributor
    second = answer(tasks[0], manager, {"boxes": [CAT]}, seconds=7)
    review = Review.objects.create(
        task=tasks[0], project=project, reviewer=manager, verdict="accept", reason="sampled"
    )
    AnnotationReview.objects.create(review=review, annotation=second, judgement="accepted")
    TaskOutcome.objects.filter(task=tasks[0]).update(agreement=0.9)
    _, content = export(project, manager, "audit", accepted_only="false")
    rows = [json.loads(line) for line in content.decode().splitlines()]
    assert len(rows) == 5  # every annotation of non-gold tasks, accepted or not
    by_id = {row["annotation_id"]: row for row in rows}
    row = by_id[second.pk]
    assert row["active_seconds"] == 7
    assert row["agreement"] == 0.9
    assert [r["verdict"] for r in row["reviews"]] == ["accept"]
    people = {r["contributor"] for r in rows}
    assert len(people) == 2
    assert row["reviews"][0]["reviewer"] == row["contributor"]  # the same person, the same id
    assert contributor.username not in content.decode()
    # Stable: a second export names people the same way.
    _, again = export(project, manager, "audit", accepted_only="false")
    assert {json.loads(line)["contributor"] for line in again.decode().splitlines()} == people


def test_unknown_format_is_a_400_naming_the_kinds_formats(boxes_world):
    project, manager, *_ = boxes_world
    response = api(manager).get(f"/api/v1/projects/{project.pk}/export/", {"format": "dpo"})
    assert response.status_code == 400
    assert response.json() == {  # the shape of a field error, as before refusals were one type
        "format": [
            "Unknown format 'dpo' for a bbox project; "
            "choose one of: coco, yolo, voc, audit, contributors."
        ],
        "formats": ["coco", "yolo", "voc", "audit", "contributors"],
    }
    job = api(manager).post(f"/api/v1/projects/{project.pk}/exports/", {"format": "dpo"})
    assert (job.status_code, job.json()) == (400, response.json())


def test_only_managers_can_export_others_get_404(boxes_world):
    project, _manager, *_ = boxes_world
    reviewer = project.members.get(role="reviewer").user
    contributor = project.members.get(role="contributor").user
    for user in [reviewer, contributor, make_user()]:
        response = api(user).get(f"/api/v1/projects/{project.pk}/export/", {"format": "coco"})
        assert response.status_code == 404


def test_each_export_is_audit_logged(boxes_world):
    project, manager, *_ = boxes_world
    export(project, manager, "coco")
    event = AuditEvent.objects.get(project=project, action=AuditAction.EXPORT_REQUESTED)
    assert event.actor == manager
    assert event.changes["format"] == "coco"
    assert event.changes["via"] == "api"


def test_export_reads_in_chunks_without_loading_the_project(
    boxes_world, django_assert_max_num_queries
):
    project, *_ = boxes_world
    with django_assert_max_num_queries(3):
        items = list(export_items(project=project, options=ExportOptions(), chunk_size=1))
    assert [i.task_id for i in items] == sorted(
        Task.objects.filter(project=project, status="accepted").values_list("pk", flat=True)
    )


def test_audit_verdicts_land_on_their_own_answers_across_read_batches(boxes_world):
    """Verdicts are merged in from a second ordered cursor: small batches must not shift them."""
    from exports.selectors import ExportOptions, audit_rows

    project, manager, tasks, *_ = boxes_world
    judged = {}
    for task in tasks[:3]:
        annotation = task.annotations.order_by("pk").first()
        review = Review.objects.create(
            task=task, project=project, reviewer=manager, verdict="reject", reason="sampled"
        )
        AnnotationReview.objects.create(review=review, annotation=annotation, judgement="rejected")
        judged[annotation.pk] = "rejected"
    options = ExportOptions(accepted_only=False)
    for size in (1, 2, 1000):
        rows = list(audit_rows(project=project, options=options, chunk_size=size))
        for row in rows:
            expected = [judged[row["annotation_id"]]] if row["annotation_id"] in judged else []
            assert [r["judgement"] for r in row["reviews"]] == expected, (size, row)
