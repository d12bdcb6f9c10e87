"""The live model connection through the API: managers only, the key write-only."""

import pytest
from rest_framework.test import APIClient

from genai.models import LiveModel
from labelhub.models import AuditEvent, Role
from tests.factories import make_project, make_user
from tests.network import FakeNetwork

pytestmark = pytest.mark.django_db

BODY = {"base_url": "https://models.example.com/v1", "model": "chat-1", "api_key": "sk-secret"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(monkeypatch):
    FakeNetwork(monkeypatch).name("models.example.com", ["93.184.215.14"])  # a public address
    maria, ana = make_user("maria"), make_user("ana")
    project = make_project(
        kind="conversation", members={maria: Role.MANAGER, ana: Role.CONTRIBUTOR}
    )
    return project, maria, ana


def test_a_manager_connects_the_model_and_never_gets_the_key_back(world):
    project, maria, _ = world
    url = f"/api/v1/projects/{project.pk}/live-model/"
    assert api(maria).get(url).json()["connected"] is False  # nothing connected yet
    saved = api(maria).put(url, {**BODY, "temperature": 0.2}, format="json")
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["has_api_key"] is True
    assert body["temperature"] == 0.2
    assert "sk-secret" not in saved.content.decode()
    assert LiveModel.objects.get(project=project).api_key == "sk-secret"
    kept = api(maria).put(url, {**BODY, "model": "chat-2", "api_key": None}, format="json")
    assert kept.status_code == 400  # null is not a key: leave it out to keep it
    without_key = {k: v for k, v in BODY.items() if k != "api_key"}
    kept = api(maria).put(url, {**without_key, "model": "chat-2"}, format="json")
    assert kept.json()["model"] == "chat-2"
    assert LiveModel.objects.get(project=project).api_key == "sk-secret"
    removed = api(maria).put(url, {**without_key, "api_key": ""}, format="json")
    assert removed.json()["has_api_key"] is False
    read = api(maria).get(url).content.decode()
    assert "sk-secret" not in read
    assert not AuditEvent.objects.filter(changes__icontains="sk-secret").exists()


def test_others_get_nothing_and_other_kinds_are_refused(world):
    project, maria, ana = world
    url = f"/api/v1/projects/{project.pk}/live-model/"
    assert api(ana).put(url, BODY, format="json").status_code == 404
    assert api(ana).get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    ranking = make_project(kind="ranking", members={maria: Role.MANAGER})
    other = api(maria).put(f"/api/v1/projects/{ranking.pk}/live-model/", BODY, format="json")
    assert other.status_code == 400
    assert other.json()["code"] == "wrong_kind"
    bad = api(maria).put(url, {**BODY, "temperature": 5}, format="json")
    assert bad.status_code == 400
    assert "temperature" in bad.json()
