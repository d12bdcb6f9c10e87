"""Hostile, malformed, oversized and wrongly typed input: a clear 4xx, nothing stored, no 500.

Where a text is shown again (names, instructions, labels, criteria, responses, transcripts, skip
reasons, review comments, rationales), an XSS payload must come back escaped on every page.
"""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from annotation import importing, queue
from annotation.models import Annotation, ImportJob, Task, TaskStatus
from labelhub.models import OrganizationMember, Project, Role
from quality.services import review_record
from tests.factories import make_project, make_task, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SHORT_XSS = "<img src=x onerror=alert(1)>"  # for names limited to 60 characters
ESCAPED_MARKERS = ("<script>alert", "<img src=x onerror")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def people():
    boss, ana, rui = make_user("boss"), make_user("ana"), make_user("rui")
    return boss, ana, rui


def assert_escaped(html: str, where: str) -> None:
    for marker in ESCAPED_MARKERS:
        assert marker not in html, f"{where}: {marker!r} came back unescaped"


# --- XSS: every text that is shown again -----------------------------------------------------


def test_xss_in_ranking_texts_comes_back_escaped_everywhere(
    client, people, django_capture_on_commit_callbacks
):
    boss, ana, rui = people
    project = make_project(
        kind="ranking",
        members={boss: Role.MANAGER, ana: Role.CONTRIBUTOR, rui: Role.REVIEWER},
        quality={"review_policy": "share", "review_share": 1.0},
    )
    OrganizationMember.objects.filter(user=boss).update(is_admin=True)
    schema = {
        **project.schema,
        "criteria": [f"honest {SHORT_XSS}"],
        "rationale": "optional",
    }
    patched = api(boss).patch(
        f"/api/v1/projects/{project.pk}/",
        {"name": f"P {XSS}", "instructions": f"# Do it\n\n{XSS}\n\n[x](javascript:alert(1))"},
        format="json",
    )
    assert patched.status_code == 200
    schema_saved = api(boss).patch(
        f"/api/v1/projects/{project.pk}/", {"schema": schema}, format="json"
    )
    assert schema_saved.status_code == 200, schema_saved.content
    project.refresh_from_db()
    task = Task.objects.create(
        project=project,
        data={
            "prompt": f"Q {XSS}",
            "responses": [{"id": "a", "text": f"A {XSS}"}, {"id": "b", "text": f"B {XSS}"}],
        },
        external_id=f"e{XSS}"[:200],
    )
    skipped = Task.objects.create(project=project, data=task.data)
    got = api(ana).post(f"/api/v1/projects/{project.pk}/next/").json()
    assignment = got["assignment"]["id"]
    work_html = client_for(client, ana).get(reverse("annotation:work", args=[project.pk]))
    assert_escaped(work_html.content.decode(), "work page")
    result = {"preference": "a", "strength": 1, "rationale": f"because {XSS}"}
    result = _ranking_result(project, result)
    with django_capture_on_commit_callbacks(execute=True):  # consolidation sends it to review
        submitted = api(ana).post(
            f"/api/v1/assignments/{assignment}/submit/",
            {"result": result, "active_seconds": 3},
            format="json",
        )
    assert submitted.status_code in (200, 201), submitted.content
    second = api(ana).post(f"/api/v1/projects/{project.pk}/next/").json()
    assert second["task"]["id"] in (task.pk, skipped.pk)
    api(ana).post(
        f"/api/v1/assignments/{second['assignment']['id']}/skip/",
        {"reason": f"other {XSS}"},
        format="json",
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    client.force_login(rui)
    review_page = client.get(reverse("quality:review", args=[project.pk, task.pk]))
    assert review_page.status_code == 200
    assert_escaped(review_page.content.decode(), "review page")
    shown = [review_page.content.decode()]
    review_record(
        task_id=task.pk,
        project=project,
        reviewer=rui,
        verdict="reject",
        version=task.outcome.version,
        comment=f"no {XSS}",
    )
    pages = {
        boss: [
            "/",
            reverse("projects:detail", args=[project.pk]),
            reverse("projects:settings", args=[project.pk]),
            reverse("projects:audit", args=[project.pk]),
            reverse("annotation:task-list", args=[project.pk]),
            reverse("annotation:task-preview", args=[project.pk, task.pk]),
            reverse("quality:dashboard", args=[project.pk]),
            reverse("quality:review-queue", args=[project.pk]),
        ],
        ana: [
            "/",
            reverse("projects:detail", args=[project.pk]),
            reverse("quality:my-work", args=[project.pk]),
            reverse("annotation:work", args=[project.pk]),
        ],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 404), url
            assert_escaped(response.content.decode(), url)
            shown.append(response.content.decode())
    everything = "".join(shown)
    for text in ("P &lt;script&gt;", "honest &lt;img", "no &lt;script&gt;", "A &lt;script&gt;"):
        assert text in everything, f"{text} is not shown at all: the test would prove nothing"
    assert "because &lt;script&gt;" in everything  # the rationale, in the review page's data


def client_for(client, user):
    client.force_login(user)
    return client


def _ranking_result(project: Project, base: dict) -> dict:
    criteria = project.schema.get("criteria") or []
    if criteria:
        base["criteria"] = dict.fromkeys(criteria, "a")
    return base


def test_xss_in_bbox_labels_and_transcripts_comes_back_escaped(client, people):
    boss, ana, _rui = people
    bbox = make_project(kind="bbox", members={boss: Role.MANAGER, ana: Role.CONTRIBUTOR})
    schema = {**bbox.schema, "labels": [{"name": f"car{XSS}"[:60], "colour": "#ff0000"}]}
    response = api(boss).patch(f"/api/v1/projects/{bbox.pk}/", {"schema": schema}, format="json")
    make_task(project=bbox)
    speech = make_project(kind="transcription", members={boss: Role.MANAGER, ana: Role.CONTRIBUTOR})
    make_task(project=speech, data={**make_task(project=speech).data, "transcript": XSS})
    client.force_login(ana)
    for project in (bbox, speech):
        api(ana).post(f"/api/v1/projects/{project.pk}/next/")
        html = client.get(reverse("annotation:work", args=[project.pk])).content.decode()
        assert_escaped(html, f"{project.kind} work page")
    client.force_login(boss)
    html = client.get(reverse("projects:settings", args=[bbox.pk])).content.decode()
    assert_escaped(html, "bbox settings")
    assert response.status_code in (200, 400)


# --- the API: wrong types, oversized, malformed ---------------------------------------------


@pytest.fixture
def queue_world(people):
    boss, ana, _rui = people
    project = make_project(kind="bbox", members={boss: Role.MANAGER, ana: Role.CONTRIBUTOR})
    make_task(project=project)
    assignment = queue.assignment_claim_next(project=project, contributor=ana)
    return project, boss, ana, assignment


@pytest.mark.parametrize(
    "body",
    [
        {"name": ["x"]},
        {"name": "x" * 100_000},
        {"kind": "nope"},
        {"schema": "not an object"},
        {"schema": {"labels": [{"name": None}]}},
        {"schema": {"labels": [{"name": "a", "hotkey": {"x": 1}}] * 5000}},
        {"quality": []},
        {"quality": {"overlap": "many"}},
        {"quality": {"overlap": 10**30}},
        {"quality": {"review_share": float("inf")}},
        {"instructions": {"x": 1}},
        {"instructions": "x" * 60_000},
    ],
    ids=lambda b: json.dumps(b, default=str)[:40],
)
def test_project_changes_with_bad_values_are_refused_and_change_nothing(queue_world, body):
    project, boss, _ana, _assignment = queue_world
    before = Project.objects.filter(pk=project.pk).values().get()
    raw = json.dumps(body, allow_nan=True)
    response = api(boss).patch(
        f"/api/v1/projects/{project.pk}/", raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()
    after = Project.objects.filter(pk=project.pk).values().get()
    assert after == before


@pytest.mark.parametrize(
    ("route", "method", "body"),
    [
        ("submit", "post", {"result": "boxes", "active_seconds": 1}),
        ("submit", "post", {"result": {"boxes": [{"x": "a"}]}, "active_seconds": 1}),
        ("submit", "post", {"result": {"boxes": []}, "active_seconds": "long"}),
        ("submit", "post", {"result": {"boxes": []}, "active_seconds": -5}),
        ("submit", "post", {"result": {"boxes": [{"x": 1e308, "y": 0, "w": 1, "h": 1}]}}),
        ("submit", "post", {"result": {"boxes": [{"x": 0}] * 20_000}}),
        ("draft", "put", {"result": [], "version": 1}),
        ("draft", "put", {"result": {"boxes": []}, "version": "two"}),
        ("draft", "put", {"result": {"boxes": []}, "version": 10**40}),
        ("skip", "post", {"reason": "x" * 10_000}),
        ("skip", "post", {"reason": {"a": 1}}),
    ],
    ids=lambda v: json.dumps(v)[:40] if isinstance(v, dict) else v,
)
def test_queue_writes_with_bad_values_are_refused_and_store_nothing(
    queue_world, route, method, body
):
    project, _boss, ana, assignment = queue_world
    url = f"/api/v1/assignments/{assignment.pk}/{route}/"
    response = getattr(api(ana), method)(url, body, format="json")
    assert response.status_code in (400, 409), response.content
    assert response.json()
    assert Annotation.objects.count() == 0
    assignment.refresh_from_db()
    assert assignment.draft is None
    assert assignment.status == "active"
    assert project.pk


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"result": {"boxes": [' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"]}}",
        '{"result": "caf\xe9"}'.encode("latin-1"),
        b"\xff\xfe\x00\x00",
        b"",
        b"null",
    ],
    ids=["truncated", "deep-list", "deep-object", "latin-1", "bom-garbage", "empty", "null"],
)
def test_malformed_json_bodies_are_a_400_on_every_write(queue_world, raw):
    """(An empty PATCH is a valid "change nothing", so the project route is left out for it.)"""
    project, boss, ana, assignment = queue_world
    for user, method, url in [
        (ana, "post", f"/api/v1/assignments/{assignment.pk}/submit/"),
        (ana, "put", f"/api/v1/assignments/{assignment.pk}/draft/"),
        (boss, "patch", f"/api/v1/projects/{project.pk}/"),
        (boss, "post", f"/api/v1/projects/{project.pk}/tasks/"),
        (boss, "post", "/api/v1/projects/"),
    ]:
        if not raw and method == "patch":
            continue
        response = getattr(api(user), method)(url, raw, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code, response.content[:200])
    assert Annotation.objects.count() == 0
    assert Task.objects.filter(project=project).count() == 1


def test_a_body_over_the_upload_limit_is_a_clear_400(queue_world):
    project, boss, _ana, _assignment = queue_world
    items = [{"image": f"https://example.com/{i}.jpg"} for i in range(200)]
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000):
        response = api(boss).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 400
    assert "large" in response.json()["detail"].lower()
    assert Task.objects.filter(project=project).count() == 1


# --- uploads: path tricks, bombs, encodings --------------------------------------------------


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Post files to the import API; the background import runs on commit, as in production."""

    def send(boss, project, name: str, content: bytes, content_type="application/octet-stream"):
        file = SimpleUploadedFile(name, content, content_type=content_type)
        with django_capture_on_commit_callbacks(execute=True):
            return api(boss).post(f"/api/v1/projects/{project.pk}/tasks/", {"file": [file]})

    return send


def _files_under(root: Path) -> set[Path]:
    return {p.resolve() for p in root.rglob("*") if p.is_file()}


def test_path_tricks_in_uploaded_file_names_stay_inside_the_project_folder(
    queue_world, upload, tmp_path, settings
):
    project, boss, _ana, _assignment = queue_world
    settings.MEDIA_ROOT = str(tmp_path / "a" / "b" / "media")
    media_root = Path(settings.MEDIA_ROOT).resolve()
    media_root.mkdir(parents=True)
    names = ["../../evil.png", "..\\..\\evil2.png", "/etc/evil3.png", "a/../../../evil4.png"]
    for name in names:
        response = upload(boss, project, name, png_bytes(8, 8).read(), "image/png")
        assert response.status_code < 500, name
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../../zip-evil.png", png_bytes(8, 8).read())
        z.writestr("/abs-evil.png", png_bytes(8, 8).read())
    response = upload(boss, project, "../pack.zip", archive.getvalue(), "application/zip")
    assert response.status_code < 500
    assert _files_under(tmp_path) == _files_under(media_root), "a file landed outside MEDIA_ROOT"
    stored = [t.media.name for t in Task.objects.filter(project=project) if t.media]
    stored += [j.upload.name for j in ImportJob.objects.filter(project=project) if j.upload]
    assert stored
    for name in stored:
        assert ".." not in name
        assert name.startswith(f"projects/{project.pk}/")
        assert (media_root / name).resolve().is_relative_to(media_root)
    external_ids = list(Task.objects.filter(project=project).values_list("external_id", flat=True))
    assert all("/" not in e and "\\" not in e for e in external_ids), external_ids


def _bomb_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, format="PNG")  # 144 Mpx, a few kB
    return out.getvalue()


def test_a_decompression_bomb_image_is_refused_with_a_message(queue_world, upload):
    project, boss, _ana, _assignment = queue_world
    response = upload(boss, project, "bomb.png", _bomb_png(), "image/png")
    job = ImportJob.objects.filter(project=project).order_by("-pk").first()
    if response.status_code == 202:
        job.refresh_from_db()
        assert job.status == "failed"
        assert "too large" in json.dumps(job.errors)
    else:
        assert response.status_code == 400
        assert "too large" in response.content.decode()
    assert Task.objects.filter(project=project).count() == 1


def test_a_zip_bomb_is_refused_before_it_is_unpacked(queue_world, monkeypatch, upload):
    project, boss, _ana, _assignment = queue_world
    monkeypatch.setattr(importing, "MAX_ZIP_BYTES", 1_000_000)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("tasks.jsonl", b" " * 3_000_000)  # 3 MB of spaces, a few kB zipped
    assert len(archive.getvalue()) < 20_000
    response = upload(boss, project, "bomb.zip", archive.getvalue(), "application/zip")
    job = ImportJob.objects.filter(project=project).order_by("-pk").first()
    if response.status_code == 202:
        job.refresh_from_db()
        assert job.status == "failed"
        assert "more than" in json.dumps(job.errors)
    else:
        assert response.status_code == 400
    assert Task.objects.filter(project=project).count() == 1


def test_a_non_utf8_csv_is_refused_with_a_message_and_nothing_stored(queue_world, upload):
    project, boss, _ana, _assignment = queue_world
    content = "image,external_id\nhttps://example.com/caf\xe9.jpg,caf\xe9\n".encode("latin-1")
    response = upload(boss, project, "tasks.csv", content, "text/csv")
    job = ImportJob.objects.filter(project=project).order_by("-pk").first()
    if response.status_code == 202:
        job.refresh_from_db()
        assert job.status == "failed"
        assert "UTF-8" in json.dumps(job.errors)
    else:
        assert response.status_code == 400
        assert "UTF-8" in response.content.decode()
    assert Task.objects.filter(project=project).count() == 1


def test_the_settings_forms_refuse_bad_values_with_422_and_keep_the_project(client, queue_world):
    project, boss, _ana, _assignment = queue_world
    client.force_login(boss)
    before = Project.objects.filter(pk=project.pk).values().get()
    for name, data in [
        ("projects:settings-general", {"name": "", "kind": "bbox"}),
        ("projects:settings-general", {"name": "x" * 5000, "kind": "bbox"}),
        ("projects:settings-schema", {"action": "save-json", "schema_json": "{bad"}),
        ("projects:settings-schema", {"action": "save-json", "schema_json": "[" * 50_000}),
        ("projects:settings-schema", {"action": "save-json", "schema_json": '"text"'}),
        ("projects:settings-quality", {"overlap": "many"}),
        ("projects:settings-instructions", {"instructions": "x" * 60_000}),
        ("projects:member-add", {"username": "nobody", "role": "owner"}),
    ]:
        response = client.post(reverse(name, args=[project.pk]), data)
        assert response.status_code == 422, (name, data.keys(), response.status_code)
    assert Project.objects.filter(pk=project.pk).values().get() == before
