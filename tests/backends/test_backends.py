"""Model backends: the protocol, the address guard, runs, and where predictions show."""

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.editors import editor_context_for_task
from backends import protocol
from backends.models import ModelBackend, Prediction, RunStatus
from backends.services import backend_save, run_create, run_execute
from labelhub.models import Role
from tests.backends.planted import PlantedBackend
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db
IMAGE = {"image": "https://example.com/cat.jpg", "width": 640, "height": 480}
BOX = {"boxes": [{"label": "object", "x": 10, "y": 20, "w": 100, "h": 50}]}


def _project():
    manager = make_user()
    project = make_project(kind="bbox", members={manager: Role.MANAGER})
    return project, manager


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_backend_on_loopback_is_refused_without_the_setting():
    project, _ = _project()
    with pytest.raises(Exception, match="loopback"):
        backend_save(project=project, name="local", url="http://127.0.0.1:9/")


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_pre_label_every_open_task_through_the_api(django_capture_on_commit_callbacks):
    project, manager = _project()
    tasks = [make_task(project=project, data=IMAGE) for _ in range(5)]
    with PlantedBackend(lambda task: (BOX, 0.8), version="boxer-2") as planted:
        client = APIClient()
        client.force_authenticate(manager)
        made = client.post(
            f"/api/v1/projects/{project.pk}/backends/",
            {"name": "Boxer", "url": planted.url, "auth_header": "Bearer s3cret", "batch_size": 2},
            format="json",
        )
        assert made.status_code == 201, made.content
        assert "auth_header" not in made.json()
        assert made.json()["has_auth_header"]
        backend_id = made.json()["id"]
        planted.fail_first = 1  # the first batch is retried
        with django_capture_on_commit_callbacks(execute=True):
            queued = client.post(
                f"/api/v1/projects/{project.pk}/backends/{backend_id}/predict/", {}, format="json"
            )
        assert queued.status_code == 202
    assert planted.headers[0]["Authorization"] == "Bearer s3cret"
    assert [len(call["tasks"]) for call in planted.calls] == [2, 2, 2, 1]  # one retry
    assert planted.calls[0]["kind"] == "bbox"
    assert planted.calls[0]["schema"] == project.schema
    run = ModelBackend.objects.get(pk=backend_id).runs.get()
    assert (run.status, run.predicted, run.failed) == (RunStatus.DONE, 5, 0)
    for task in tasks:
        task.refresh_from_db()
        first = task.predictions[0]
        assert (first["model"], first["model_version"], first["score"]) == ("Boxer", "boxer-2", 0.8)
        assert first["result"]["boxes"][0]["w"] == 100
        editor = editor_context_for_task(task=task, project=project)
        assert editor.initial_result == first["result"]
        assert editor.source == "Starts from the prediction of Boxer boxer-2 (score 0.80)."
    listed = client.get(f"/api/v1/projects/{project.pk}/backends/").json()
    assert listed[0]["versions"][0]["predictions"] == 5


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_a_disabled_backend_is_refused_with_a_code():
    project, manager = _project()
    make_task(project=project, data=IMAGE)
    backend = backend_save(project=project, name="Off", url="http://127.0.0.1:9/", enabled=False)
    client = APIClient()
    client.force_authenticate(manager)
    response = client.post(
        f"/api/v1/projects/{project.pk}/backends/{backend.pk}/predict/", {}, format="json"
    )
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "The backend is disabled.", "code": "backend_disabled"},
    )
    assert not backend.runs.exists()


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_one_task_from_the_editor_and_bad_answers_reported(client):
    project, manager = _project()
    task = make_task(project=project, data=IMAGE)
    bad = make_task(project=project, data=IMAGE)

    def answer(item):
        if item["id"] == bad.pk:
            return {"boxes": [{"label": "no-such-label", "x": 1, "y": 1, "w": 5, "h": 5}]}, 0.5
        return BOX, 0.9

    with PlantedBackend(answer) as planted:
        backend = backend_save(project=project, name="Boxer", url=planted.url)
        client.force_login(manager)
        page = client.post(
            reverse("backends:task-predict", args=[project.pk, task.pk]),
            {"backend": backend.pk},
            follow=True,
        )
        assert b"Starts from the prediction of Boxer v1 (score 0.90)." in page.content
        run = run_create(backend=backend, task_ids=[bad.pk])
        run = run_execute(run_id=run.pk)
    assert run.status == RunStatus.FAILED
    assert "no-such-label" in run.errors[0]
    assert Prediction.objects.filter(task=bad).count() == 0


@override_settings(MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES=True)
def test_a_backend_that_never_answers_times_out():
    project, _ = _project()
    task = make_task(project=project, data=IMAGE)
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        backend = backend_save(
            project=project,
            name="Mute",
            url=f"http://127.0.0.1:{silent.getsockname()[1]}/",
            timeout_seconds=1,
        )
        with pytest.raises(protocol.BackendFailed, match="within 1 s"):
            protocol.predict(backend=backend, tasks=[task])
    finally:
        silent.close()


def test_what_a_model_saved_is_measured_with_the_installed_kinds_figures():
    import kinds
    from backends.measure import _figure_means

    measured = [
        {"reference": "gold", "wer": 0.2},
        {"reference": "accepted", "wer": 0.4, "mean_iou": 0.5},
    ]
    assert _figure_means(measured=measured, accepted=measured[1:]) == {
        "mean_iou": 0.5, "f1": None, "agreement": None, "wer": 0.4, "cer": None, "gold_wer": 0.2,
    }  # fmt: skip
    only = ["kinds.transcription.kind.TranscriptionKind"]
    with override_settings(LABELHUB_TASK_KINDS=only):
        kinds.registry.cache_clear()
        try:
            assert _figure_means(measured=measured, accepted=measured[1:]) == {
                "wer": 0.4, "cer": None, "gold_wer": 0.2,
            }  # fmt: skip
        finally:
            kinds.registry.cache_clear()
