"""Imports of every format, re-import by external_id, and the all-or-nothing rule."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.importing import ImportRejected, parse_content
from annotation.imports import parsed_import, tasks_import
from annotation.models import ImportJob, Task
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user
from tests.media_files import image_bytes, wav_bytes
from tests.network import FakeNetwork

pytestmark = pytest.mark.django_db


def run(project, name: str, content: bytes, coco_use: str = ""):
    from annotation.importing import media_field_for

    parsed = parse_content(
        content,
        name=name,
        media_field=media_field_for(kind=project.task_kind, schema=project.schema),
    )
    return parsed_import(project=project, parsed=parsed, coco_use=coco_use)


def problems_of(call) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        call()
    return caught.value.messages


@pytest.fixture
def network(monkeypatch) -> FakeNetwork:
    """Callback hosts resolve here, not through real DNS: hooks.example.com is public."""
    fake = FakeNetwork(monkeypatch)
    fake.name("hooks.example.com", ["93.184.215.14"])
    return fake


def test_json_list_creates_tasks_with_every_field_and_the_project_overlap(network):
    project = make_project(kind="bbox", quality={"overlap": 3})
    items = [
        {
            "data": {"image": "https://example.com/1.jpg"},
            "external_id": "one",
            "gold": {"boxes": [{"label": "object", "x": 1, "y": 1, "w": 5, "h": 5}]},
            "predictions": [{"boxes": []}],
            "callback_url": "https://hooks.example.com/done",
            "priority": 5,
        },
        {"image": "https://example.com/2.jpg"},  # the bare data object, Label Studio style
    ]
    outcome = run(project, "tasks.json", json.dumps(items).encode())
    assert (outcome.created, outcome.updated) == (2, 0)
    one = Task.objects.get(external_id="one")
    assert one.is_gold
    assert one.gold["boxes"][0]["w"] == 5
    assert one.predictions == [{"boxes": []}]
    assert (one.callback_url, one.priority, one.overlap) == ("https://hooks.example.com/done", 5, 3)
    two = Task.objects.exclude(pk=one.pk).get()
    assert two.data == {"image": "https://example.com/2.jpg"}
    assert not two.is_gold


def test_reimport_with_the_same_external_id_updates_and_never_duplicates():
    project = make_project(kind="transcription")
    first = [{"data": {"audio": "https://x/a.flac"}, "external_id": "a", "priority": 1}]
    run(project, "tasks.json", json.dumps(first).encode())
    second = [
        {"data": {"audio": "https://x/a2.flac", "draft": "hello"}, "external_id": "a"},
        {"data": {"audio": "https://x/b.flac"}, "external_id": "b"},
    ]
    outcome = run(project, "tasks.json", json.dumps(second).encode())
    assert (outcome.created, outcome.updated) == (1, 1)
    assert Task.objects.filter(project=project).count() == 2
    a = Task.objects.get(external_id="a")
    assert a.data == {"audio": "https://x/a2.flac", "draft": "hello"}
    assert a.priority == 1  # not given again, so kept


def test_external_ids_are_per_project():
    one, other = make_project(), make_project()
    make_task(project=other, external_id="same")
    run(
        one,
        "t.json",
        json.dumps([{"data": {"image": "https://x/a.jpg"}, "external_id": "same"}]).encode(),
    )
    assert Task.objects.filter(external_id="same").count() == 2


def test_one_bad_row_imports_nothing_and_names_row_and_field():
    project = make_project(kind="bbox")
    make_task(project=project, external_id="keep", data={"image": "https://x/old.jpg"})
    rows = [
        {"data": {"image": "https://x/a.jpg"}, "external_id": "keep"},
        {"data": {"image": "https://x/b.jpg"}},
        {"data": {"image": "not a url"}},
        {"data": {"image": "https://x/c.jpg"}, "priority": "high", "colour": "red"},
    ]
    messages = problems_of(lambda: run(project, "t.json", json.dumps(rows).encode()))
    assert "item 3, data.image: The image must be an http(s) URL or an uploaded file." in messages
    assert "item 4, priority: The priority is a whole number." in messages
    assert "item 4, colour: Not a field of a task." in messages
    assert Task.objects.filter(project=project).count() == 1
    assert Task.objects.get(external_id="keep").data == {"image": "https://x/old.jpg"}


def test_gold_and_prediction_errors_name_their_path():
    project = make_project(kind="bbox")
    rows = [
        {
            "data": {"image": "https://x/a.jpg"},
            "gold": {"boxes": [{"label": "ghost", "x": 0, "y": 0, "w": 5, "h": 5}]},
            "predictions": [{"boxes": "none"}],
            "callback_url": "ftp://x",
        }
    ]
    messages = problems_of(lambda: run(project, "t.json", json.dumps(rows).encode()))
    assert "item 1, gold.boxes.0.label: Unknown label 'ghost'." in messages
    assert "item 1, predictions.0.boxes: A result holds a list of boxes." in messages
    assert "item 1, callback_url: The callback URL must be an http(s) URL." in messages


def test_external_id_twice_in_one_import_is_refused():
    project = make_project(kind="bbox")
    rows = [{"data": {"image": "https://x/a.jpg"}, "external_id": "d"}] * 2
    messages = problems_of(lambda: run(project, "t.json", json.dumps(rows).encode()))
    assert messages == ["item 2, external_id: Also given in item 1 of this import."]


def test_jsonl_reports_lines():
    project = make_project(kind="ranking")
    good = {"prompt": "Hi", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
    content = "\n".join([json.dumps(good), "", json.dumps({"prompt": "Hi"})]).encode()
    messages = problems_of(lambda: run(project, "t.jsonl", content))
    assert messages == ["line 3, data.responses: Give 2 to 6 responses."]
    assert run(project, "t.jsonl", json.dumps(good).encode()).created == 1
    broken = b'{"prompt": '
    assert problems_of(lambda: run(project, "t.jsonl", broken))[0].startswith(
        "line 1: Not valid JSON"
    )


def test_csv_columns_become_data_keys_plain_prefixed_and_nested():
    project = make_project(kind="ranking")
    content = (
        b"external_id,prompt,data.responses.0.id,responses.0.text,responses.1.id,responses.1.text,priority\n"
        b"r1,Which?,a,First,b,Second,2\n"
        b"\n"
        b'r2,"Say ""hi""",a,x,b,"[not json",\n'
    )
    outcome = run(project, "tasks.csv", content)
    assert outcome.created == 2
    r1 = Task.objects.get(external_id="r1")
    assert r1.data == {
        "prompt": "Which?",
        "responses": [{"id": "a", "text": "First"}, {"id": "b", "text": "Second"}],
    }
    assert r1.priority == 2
    assert Task.objects.get(external_id="r2").data["responses"][1]["text"] == "[not json"


def test_csv_problems_give_the_spreadsheet_row():
    project = make_project(kind="bbox")
    content = b'image,gold\nhttps://x/a.jpg,\nnope,\nhttps://x/b.jpg,{"boxes": 3}\n'
    messages = problems_of(lambda: run(project, "t.csv", content))
    assert "row 3, data.image: The image must be an http(s) URL or an uploaded file." in messages
    assert "row 4, gold.boxes: A result holds a list of boxes." in messages
    assert Task.objects.count() == 0


def test_images_become_tasks_with_size_and_thumbnail_and_file_name_as_external_id():
    project = make_project(kind="bbox")
    outcome = run(project, "cat.png", image_bytes(64, 48))
    assert outcome.created == 1
    task = Task.objects.get()
    assert task.external_id == "cat.png"
    assert (task.data["width"], task.data["height"]) == (64, 48)
    assert task.data["image"] == f"/tasks/{task.pk}/media/"
    assert task.media
    assert task.thumbnail
    assert task.media_meta["format"] == "png"


def test_exif_orientation_decides_the_image_size():
    project = make_project(kind="bbox")
    run(project, "rotated.jpg", image_bytes(64, 48, exif_rotate=True))
    task = Task.objects.get()
    assert (task.data["width"], task.data["height"]) == (48, 64)


def test_a_file_that_is_not_an_image_is_refused_by_name():
    project = make_project(kind="bbox")
    messages = problems_of(lambda: run(project, "cat.png", b"not an image"))
    assert messages == ["file cat.png, data.image: This file is not an image LabelHub can read."]


def test_audio_file_becomes_a_transcription_task_with_its_duration():
    project = make_project(kind="transcription")
    run(project, "clip.wav", wav_bytes(0.5))
    task = Task.objects.get()
    assert task.data["audio"] == f"/tasks/{task.pk}/media/"
    assert task.media_meta == {"duration": 0.5, "format": "wav"}


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_zip_of_images_makes_one_task_each():
    project = make_project(kind="bbox")
    content = zip_of({"a/one.png": image_bytes(), "two.jpg": image_bytes(fmt="JPEG"),
                      "__MACOSX/._one.png": b"junk", "notes.txt": b"ignored"})  # fmt: skip
    assert run(project, "batch.zip", content).created == 2
    assert set(Task.objects.values_list("external_id", flat=True)) == {"one.png", "two.jpg"}


def test_zip_with_a_csv_takes_media_it_names_from_the_zip():
    project = make_project(kind="transcription")
    csv = b"external_id,audio,draft\nc1,clip.wav,hello\nc2,https://x/remote.flac,\n"
    outcome = run(project, "batch.zip", zip_of({"tasks.csv": csv, "clip.wav": wav_bytes()}))
    assert outcome.created == 2
    c1 = Task.objects.get(external_id="c1")
    assert c1.data == {"audio": f"/tasks/{c1.pk}/media/", "draft": "hello"}
    assert Task.objects.get(external_id="c2").data["audio"] == "https://x/remote.flac"


def test_bad_image_in_a_zip_imports_nothing():
    project = make_project(kind="bbox")
    content = zip_of({"good.png": image_bytes(), "bad.png": b"broken"})
    messages = problems_of(lambda: run(project, "batch.zip", content))
    assert messages == ["file bad.png, data.image: This file is not an image LabelHub can read."]
    assert Task.objects.count() == 0


def coco(file_names, boxes):
    return json.dumps(
        {
            "images": [{"id": i, "file_name": name} for i, name in enumerate(file_names)],
            "categories": [{"id": 1, "name": "object"}, {"id": 2, "name": "ghost"}],
            "annotations": [
                {"id": n, "image_id": image_id, "category_id": category, "bbox": bbox}
                for n, (image_id, category, bbox) in enumerate(boxes)
            ],
        }
    ).encode()


def test_coco_attaches_gold_by_file_name_or_external_id():
    project = make_project(kind="bbox")
    by_id = make_task(project=project, external_id="img/a.jpg", data={"image": "https://x/a.jpg"})
    by_url = make_task(project=project, data={"image": "https://cdn.example.com/p/b.jpg?sig=1"})
    content = coco(["a.jpg", "b.jpg"], [(0, 1, [1, 2, 10, 10])])
    outcome = run(project, "coco.json", content, coco_use="gold")
    assert outcome.updated == 2
    by_id.refresh_from_db()
    by_url.refresh_from_db()
    assert by_id.is_gold
    assert by_id.gold == {"boxes": [{"label": "object", "x": 1, "y": 2, "w": 10, "h": 10}]}
    assert by_url.is_gold
    assert by_url.gold == {"boxes": []}


def test_coco_as_predictions_replaces_them():
    project = make_project(kind="bbox")
    task = make_task(project=project, external_id="a.jpg", predictions=[{"boxes": []}])
    run(project, "coco.json", coco(["a.jpg"], [(0, 1, [0, 0, 5, 5])]), coco_use="predictions")
    task.refresh_from_db()
    assert task.predictions == [{"boxes": [{"label": "object", "x": 0, "y": 0, "w": 5, "h": 5}]}]
    assert not task.is_gold


def test_coco_with_an_unknown_image_or_label_changes_nothing():
    project = make_project(kind="bbox")
    task = make_task(project=project, external_id="a.jpg")
    content = coco(["a.jpg", "missing.jpg"], [(0, 2, [0, 0, 5, 5]), (0, 1, [0, 0, 5])])
    messages = problems_of(lambda: run(project, "coco.json", content, coco_use="gold"))
    assert "annotations.1, bbox: A box is four numbers [x, y, w, h]." in messages
    content = coco(["a.jpg", "missing.jpg"], [(0, 2, [0, 0, 5, 5])])
    messages = problems_of(lambda: run(project, "coco.json", content, coco_use="gold"))
    assert "images.0 (a.jpg), boxes.0.label: Unknown label 'ghost'." in messages
    assert "images.1 (missing.jpg), file_name: No task has this file name." in messages
    task.refresh_from_db()
    assert not task.is_gold


def test_a_coco_file_is_read_by_the_kind_that_takes_boxes_only():
    ranking = make_project(kind="ranking")
    content = coco(["a.jpg"], [(0, 1, [0, 0, 5, 5])])
    messages = problems_of(lambda: run(ranking, "coco.json", content, coco_use="gold"))
    assert messages == ["file: COCO files are for projects of bounding boxes."]
    bad = json.dumps({"images": [{"id": 0}], "annotations": []}).encode()
    messages = problems_of(lambda: run(ranking, "coco.json", bad))
    assert messages == ["images.0, file_name: An image needs its file name."]
    assert Task.objects.count() == 0


def test_unknown_file_type_is_refused():
    project = make_project()
    messages = problems_of(lambda: run(project, "tasks.xlsx", b"PK"))
    assert messages[0].startswith("file tasks.xlsx: LabelHub imports JSON, JSONL, CSV")


def test_tasks_import_takes_rows_directly():
    from annotation.importing import rows_from_items

    project = make_project(kind="bbox")
    rows = rows_from_items([{"image": f"https://x/{i}.jpg"} for i in range(2500)], label="item")
    assert tasks_import(project=project, rows=rows).created == 2500


def test_a_decompression_bomb_is_refused():
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 9_000)).save(out, format="PNG")  # 90 Mpx, a few kB on disk
    project = make_project(kind="bbox")
    messages = problems_of(lambda: run(project, "huge.png", out.getvalue()))
    assert messages == [
        "file huge.png, data.image: The image is too large to process safely "
        "(more than 89,478,485 pixels)."
    ]


def test_a_zip_bomb_is_refused_before_unpacking(monkeypatch):
    import annotation.importing as importing

    monkeypatch.setattr(importing, "MAX_ZIP_BYTES", 1000)
    project = make_project(kind="bbox")
    content = zip_of({"big.png": b"\0" * 5000})
    messages = problems_of(lambda: run(project, "batch.zip", content))
    assert messages == ["zip: The zip unpacks to more than 4 GB."]


def test_checking_reports_progress_every_thousand_rows():
    from annotation.importing import rows_from_items
    from annotation.imports import tasks_check

    project = make_project(kind="bbox")
    rows = rows_from_items([{"image": f"https://x/{i}.jpg"} for i in range(2500)], label="item")
    seen: list[int] = []
    assert len(tasks_check(project=project, rows=rows, progress=seen.append)) == 2500
    assert seen == [1000, 2000]


def test_the_copy_fast_path_writes_every_column_of_a_task():
    """A new Task column must join the COPY import too, or imports break on PostgreSQL."""
    from annotation.imports import COPY_FIELDS
    from annotation.models import Task

    columns = {field.name for field in Task._meta.concrete_fields if not field.primary_key}
    assert set(COPY_FIELDS) == columns


@pytest.mark.postgres
def test_a_big_import_refreshes_the_planner_statistics_once_committed(
    monkeypatch, django_capture_on_commit_callbacks
):
    """So that the queue walks its index at once, not after autovacuum's next round."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotation import imports

    monkeypatch.setattr(imports, "ANALYZE_AFTER", 3)
    project = make_project(kind="bbox")
    small = [{"image": f"https://example.com/{i}.jpg"} for i in range(2)]
    big = [{"image": f"https://example.com/{i}.jpg"} for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            run(project, "small.json", json.dumps(small).encode())
        assert not [q for q in queries if q["sql"].startswith("ANALYZE")]
        with django_capture_on_commit_callbacks(execute=True):
            run(project, "big.json", json.dumps(big).encode())
    assert [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")] == [
        'ANALYZE "annotation_task"'
    ]


PUBLIC_AND_PRIVATE_CALLBACKS = [
    "https://hooks.example.com/done",
    "http://10.0.0.1/hook",
    "http://127.0.0.1:8000/x",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x",
    "http://hooks.invalid/x",
    "http://intranet.example.com/x",
]
PRIVATE_CALLBACK_PROBLEMS = [  # for the URLs above after the first (public) one
    "10.0.0.1 is a private address; webhooks only go to public addresses.",
    "127.0.0.1 is a loopback address; webhooks only go to public addresses.",
    "169.254.169.254 is a link-local address (cloud metadata lives there); "
    "webhooks only go to public addresses.",
    "::1 is a loopback address; webhooks only go to public addresses.",
    # a name that does not resolve and one that resolves inside are told apart nowhere
    "hooks.invalid is not an allowed address: webhooks only go to hosts with public addresses.",
    "intranet.example.com is not an allowed address: webhooks only go to hosts with public "
    "addresses.",
]


@pytest.mark.parametrize(
    ("file_name", "first_private"), [("tasks.csv", "row 3"), ("tasks.json", "item 2")]
)
def test_private_and_unresolvable_callback_urls_are_refused_by_row_and_field(
    network, settings, file_name, first_private
):
    """CSV rows count the header (row 1), JSON items count from 1, as for every other field."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    network.name("intranet.example.com", ["192.168.1.5"])
    project = make_project(kind="bbox")
    urls = PUBLIC_AND_PRIVATE_CALLBACKS
    if file_name.endswith(".csv"):
        lines = ["image,callback_url"] + [f"https://x/{i}.jpg,{url}" for i, url in enumerate(urls)]
        content = "\n".join(lines).encode()
    else:
        items = [{"data": {"image": "https://x/a.jpg"}, "callback_url": url} for url in urls]
        content = json.dumps(items).encode()
    messages = problems_of(lambda: run(project, file_name, content))
    label, number = first_private.split()
    assert messages == [
        f"{label} {int(number) + i}, callback_url: {message}"
        for i, message in enumerate(PRIVATE_CALLBACK_PROBLEMS)
    ]
    assert not Task.objects.exists()


def test_with_private_addresses_allowed_any_callback_host_is_imported_unresolved(network, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    project = make_project(kind="bbox")
    items = [{"data": {"image": "https://x/a.jpg"}, "callback_url": url} for url in
             PUBLIC_AND_PRIVATE_CALLBACKS]  # fmt: skip
    assert run(project, "t.json", json.dumps(items).encode()).created == 7
    assert network.lookups == []


def test_an_import_resolves_each_callback_host_once(network, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    network.name("other.example.com", ["93.184.215.15"])
    project = make_project(kind="bbox")
    lines = ["image,callback_url"] + [
        f"https://x/{i}.jpg,https://hooks.example.com/done?task={i}" for i in range(10_000)
    ]
    lines.append("https://x/last.jpg,https://other.example.com/done")
    assert run(project, "tasks.csv", "\n".join(lines).encode()).created == 10_001
    assert network.lookups == ["hooks.example.com", "other.example.com"]
    items = [{"data": {"image": "https://x/a.jpg"}, "callback_url": "http://hooks.invalid/"}] * 3
    problems_of(lambda: run(project, "t.json", json.dumps(items).encode()))
    assert network.lookups[2:] == ["hooks.invalid"]  # a name that does not resolve: asked once


@pytest.fixture
def manager_of_project(client):
    boss = make_user()
    project = make_project(kind="bbox", members={boss: Role.MANAGER})
    client.force_login(boss)
    return boss, project


def test_the_api_refuses_a_private_callback_url_with_row_and_field(
    network, settings, manager_of_project
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    boss, project = manager_of_project
    api = APIClient()
    api.force_authenticate(boss)
    items = [
        {"data": {"image": "https://x/a.jpg"}, "callback_url": "https://hooks.example.com/done"},
        {"data": {"image": "https://x/b.jpg"}, "callback_url": "http://10.0.0.1/hook"},
    ]
    response = api.post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {
            "where": "item 2",
            "field": "callback_url",
            "message": "10.0.0.1 is a private address; webhooks only go to public addresses.",
        }
    ]
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    response = api.post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 201
    assert Task.objects.filter(callback_url="http://10.0.0.1/hook").exists()


def test_the_upload_page_refuses_a_private_callback_url_with_row_and_field(
    network, settings, client, manager_of_project, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    _, project = manager_of_project
    content = b"image,callback_url\nhttps://x/a.jpg,https://hooks.example.com/done\n"
    content += b"https://x/b.jpg,http://10.0.0.1/hook\n"
    upload = SimpleUploadedFile("tasks.csv", content)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("annotation:task-import", args=[project.pk]), {"files": [upload]})
    job = ImportJob.objects.get()
    status_url = reverse("annotation:import-status", args=[project.pk, job.pk])
    html = client.get(status_url).content.decode()
    assert "row 3, callback_url: 10.0.0.1 is a private address" in html
    assert not Task.objects.exists()


GOLD_BOX = {"boxes": [{"label": "object", "x": 2, "y": 3, "w": 20, "h": 10}]}


def test_reimporting_an_uploaded_image_to_add_gold_keeps_its_size_and_file():
    project = make_project(kind="bbox")
    run(project, "cat.png", image_bytes(64, 48))
    task = Task.objects.get()
    uploaded = dict(task.data)

    # Only the task fields: the data stays as it was.
    outcome = run(
        project, "gold.json", json.dumps([{"external_id": "cat.png", "gold": GOLD_BOX}]).encode()
    )
    assert (outcome.created, outcome.updated) == (0, 1)
    task.refresh_from_db()
    assert task.is_gold
    assert task.gold["boxes"][0]["w"] == 20
    assert task.data == uploaded
    assert task.media
    assert task.media_meta["format"] == "png"

    # The same image named again without its size keeps the size too; the gold is checked on it.
    again = [{"external_id": "cat.png", "data": {"image": uploaded["image"]}, "gold": GOLD_BOX}]
    run(project, "gold.json", json.dumps(again).encode())
    task.refresh_from_db()
    assert (task.data["width"], task.data["height"]) == (64, 48)
    too_wide = {"boxes": [{"label": "object", "x": 60, "y": 3, "w": 20, "h": 10}]}
    problems = problems_of(
        lambda: run(
            project,
            "gold.json",
            json.dumps([{"external_id": "cat.png", "gold": too_wide}]).encode(),
        )
    )
    assert any(p.startswith("item 1, gold.boxes.0") for p in problems), problems


def test_reimport_by_csv_with_only_external_id_and_gold_keeps_the_data():
    project = make_project(kind="bbox")
    first = [
        {"data": {"image": "https://x/a.jpg", "width": 640, "height": 480}, "external_id": "a"}
    ]
    run(project, "tasks.json", json.dumps(first).encode())
    csv = 'external_id,gold\na,"' + json.dumps(GOLD_BOX).replace('"', '""') + '"\n'
    assert run(project, "gold.csv", csv.encode()).updated == 1
    task = Task.objects.get(external_id="a")
    assert task.data == {"image": "https://x/a.jpg", "width": 640, "height": 480}
    assert task.is_gold


def test_a_new_image_url_drops_the_old_size_and_a_row_without_data_needs_a_known_task():
    project = make_project(kind="bbox")
    first = [
        {"data": {"image": "https://x/a.jpg", "width": 640, "height": 480}, "external_id": "a"}
    ]
    run(project, "tasks.json", json.dumps(first).encode())
    run(
        project,
        "t.json",
        json.dumps([{"data": {"image": "https://x/b.jpg"}, "external_id": "a"}]).encode(),
    )
    assert Task.objects.get(external_id="a").data == {"image": "https://x/b.jpg"}
    problems = problems_of(
        lambda: run(
            project, "t.json", json.dumps([{"external_id": "nope", "gold": GOLD_BOX}]).encode()
        )
    )
    assert problems == ["item 1, data: No task has this external id, so the row needs its data."]
