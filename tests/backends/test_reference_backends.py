"""The reference backends as real processes on loopback, pre-labelling the demo's real media.

Each test starts ``python -m reference_backends.<name>`` on a free port, connects it to a project
through the API, imports real files through the task page (the import pre-labels them in the
background) and checks what LabelHub stored and shows. A backend whose model is not installed
(``pip install -e "./reference_backends[...]"``, see reference_backends/README.md) is skipped.
"""

import importlib.util
import io
import json
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont
from rest_framework.test import APIClient

from annotation import queue
from annotation.models import Task, TaskStatus
from backends.models import ModelBackend, Prediction, RunStatus
from demo.content import DEMO_DIR, PHOTO_BOXES, SENTENCES
from labelhub.models import Role
from labelhub.quality_bars import quality_with_defaults
from tests.factories import make_project, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.media]
ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90


def needs(*modules: str, extra: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed: pip install -e './reference_backends[{extra}]'"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(module: str, tmp_path: Path):
    """The backend as its own process on a free loopback port; stopped after, failure or not."""
    port = free_port()
    log = (tmp_path / f"{module}.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", f"reference_backends.{module}", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"{module} exited with {process.returncode}:\n{log.read()}")
            try:
                with urllib.request.urlopen(url + "health", timeout=2) as answer:  # noqa: S310
                    assert json.load(answer)["ok"]
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{module} did not answer /health in {STARTUP_SECONDS} s")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def connect(project, manager, url: str, **fields) -> tuple[APIClient, int]:
    api = APIClient()
    api.force_authenticate(manager)
    made = api.post(
        f"/api/v1/projects/{project.pk}/backends/",
        {"name": "Reference", "url": url, "timeout_seconds": 120, **fields},
        format="json",
    )
    assert made.status_code == 201, made.content
    return api, made.json()["id"]


def upload(client, manager, project, files: list[tuple[str, bytes]], capture) -> None:
    """Through the task page: the import runs, then the backend's pass over the new tasks."""
    client.force_login(manager)
    with capture(execute=True):
        response = client.post(
            reverse("annotation:task-import", args=[project.pk]),
            {"files": [SimpleUploadedFile(name, content) for name, content in files]},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Task.objects.filter(project=project).count() == len(files)


def inside(box: dict, outer: tuple) -> bool:
    _, x, y, w, h = outer
    return (
        x <= box["x"]
        and y <= box["y"]
        and box["x"] + box["w"] <= x + w
        and (box["y"] + box["h"] <= y + h)
    )


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_faces_backend_pre_labels_the_demo_photographs(
    client, tmp_path, django_capture_on_commit_callbacks
):
    needs("cv2", extra="faces")
    manager = make_user()
    labels = [{"name": n} for n in ("animal", "person", "vehicle", "object")]
    project = make_project(
        kind="bbox",
        members={manager: Role.MANAGER},
        schema={"labels": labels, "min_size": 2, "allow_empty": True},
    )
    photos = sorted((DEMO_DIR / "images").glob("*.jpg"))
    with running("faces", tmp_path) as url:
        _api, backend_id = connect(project, manager, url, batch_size=2)
        upload(
            client,
            manager,
            project,
            [(p.name, p.read_bytes()) for p in photos],
            django_capture_on_commit_callbacks,
        )
    run = ModelBackend.objects.get(pk=backend_id).runs.get()
    assert (run.trigger, run.status, run.predicted, run.failed) == ("import", RunStatus.DONE, 5, 0)
    found = {}
    for task in Task.objects.filter(project=project):
        first = task.predictions[0]
        assert first["model"] == "Reference"
        assert first["model_version"].startswith("haar-frontalface-opencv4.")
        assert 0 <= first["score"] <= 1
        found[task.external_id] = first["result"]["boxes"]
    # The astronaut's face: a box labelled with the schema's "person", inside the person.
    person = next(b for b in PHOTO_BOXES["astronaut"] if b[0] == "person")
    faces = found["astronaut.jpg"]
    assert faces, found
    assert all(b["label"] == "person" for b in faces)
    assert any(inside(b, person) for b in faces), faces
    assert Prediction.objects.filter(backend_id=backend_id).count() == 5
    page = client.get(reverse("backends:list", args=[project.pk])).content.decode()
    assert "haar-frontalface-opencv" in page
    print("faces found:", {name: len(boxes) for name, boxes in sorted(found.items())})


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_speech_backend_drafts_each_clip_and_its_wer_is_stored_and_shown(
    client, tmp_path, django_capture_on_commit_callbacks
):
    needs("pocketsphinx", "soundfile", extra="speech")
    manager, person = make_user(), make_user()
    project = make_project(
        kind="transcription",
        members={manager: Role.MANAGER, person: Role.CONTRIBUTOR},
        quality={"overlap": 1, "review_policy": "none"},
    )
    clips = sorted((DEMO_DIR / "audio").glob("clip*.flac"))
    truth = {f"clip{i}.flac": sentence for i, sentence in enumerate(SENTENCES, start=1)}
    with running("speech", tmp_path) as url:
        api, backend_id = connect(project, manager, url, batch_size=2)
        upload(
            client,
            manager,
            project,
            [(c.name, c.read_bytes()) for c in clips],
            django_capture_on_commit_callbacks,
        )
    run = ModelBackend.objects.get(pk=backend_id).runs.get()
    assert (run.status, run.predicted, run.failed) == (RunStatus.DONE, 4, 0), run.errors
    drafts = {}
    for task in Task.objects.filter(project=project):
        first = task.predictions[0]
        assert first["model_version"] == "pocketsphinx-en-us"
        assert first["result"]["text"].strip(), "an empty draft"
        drafts[task.external_id] = first["result"]["text"]
    assert set(drafts) == set(truth)

    # A person corrects each draft to what the clip says; with overlap 1 the task is accepted.
    for _ in clips:
        with django_capture_on_commit_callbacks(execute=True):
            lease = queue.assignment_claim_next(project=project, contributor=person)
            name = Task.objects.get(pk=lease.task_id).external_id
            queue.annotation_submit(
                assignment_id=lease.pk,
                contributor=person,
                result={"text": truth[name]},
                active_seconds=20,
            )
    assert set(Task.objects.filter(project=project).values_list("status", flat=True)) == {
        TaskStatus.ACCEPTED
    }

    # The backends page measures each draft against the accepted text and shows the WER.
    page = client.get(reverse("backends:list", args=[project.pk])).content.decode()
    kind = project.task_kind
    quality = quality_with_defaults(project.quality)
    wers = {}
    for prediction in Prediction.objects.filter(backend_id=backend_id).select_related("task"):
        name = prediction.task.external_id
        expected = kind.compare(
            {"text": drafts[name]}, {"text": truth[name]}, schema=project.schema, quality=quality
        )
        assert prediction.measure["reference"] == "accepted"
        assert prediction.measure["wer"] == round(expected.wer, 4)
        assert prediction.measure["cer"] == round(expected.cer, 4)
        wers[name] = prediction.measure["wer"]
    mean_wer = round(sum(wers.values()) / len(wers), 4)
    assert f'<span data-testid="wer">{mean_wer}</span>' in page
    saved = api.get(f"/api/v1/projects/{project.pk}/backends/").json()[0]["versions"][0]["saved"]
    assert (saved["wer"], saved["accepted_measured"]) == (mean_wer, 4)
    print("speech drafts:", {n: (drafts[n], wers[n]) for n in sorted(wers)}, "mean WER", mean_wer)


def text_image(lines: list[str], size: int = 28) -> bytes:
    """Black text in Pillow's own default font (at 28 px) on white, as a PNG.

    At the bitmap default's 11 px RapidOCR reads the words but runs some of them together.
    """
    font = ImageFont.load_default(size=size)
    image = Image.new("RGB", (640, 40 + 2 * size * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((20, 20 + 2 * size * i), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_ocr_backend_reads_text_drawn_with_pillow(
    client, tmp_path, django_capture_on_commit_callbacks
):
    # The demo photographs have no text to read: the test draws its own.
    needs("rapidocr_onnxruntime", "onnxruntime", "cv2", extra="ocr")
    manager = make_user()
    project = make_project(
        kind="transcription",
        members={manager: Role.MANAGER},
        schema={"media": "image", "normalisation": ["lowercase"], "segments": False},
    )
    lines = ["Please label every car", "and every person in the picture"]
    with running("ocr", tmp_path) as url:
        _api, backend_id = connect(project, manager, url)
        upload(
            client,
            manager,
            project,
            [("sign.png", text_image(lines))],
            django_capture_on_commit_callbacks,
        )
    task = Task.objects.get(project=project)
    draft = task.predictions[0]["result"]["text"]
    comparison = project.task_kind.compare(
        {"text": draft},
        {"text": " ".join(lines)},
        schema={"normalisation": ["lowercase", "strip_punctuation", "collapse_whitespace"]},
        quality={},
    )
    print("OCR draft:", repr(draft), "WER", comparison.wer, "score", task.predictions[0]["score"])
    assert draft.splitlines() == lines
    assert comparison.wer == 0.0
    assert Prediction.objects.get(backend_id=backend_id).score > 0.5
