"""Secrets at rest: a dump of every table holds none of them (issue #24, item 7).

The server must send a live model's API key, a backend's Authorization header and a project's
webhook secret again, so they are encrypted (``labelhub.encryption``); API tokens it only has to
recognise, so only a hash of each is kept and the person sees the token once.
"""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from annotation.webhooks import project_webhook_secret
from backends.models import ModelBackend
from genai.models import LiveModel
from labelhub.accounts import api_token_issue
from labelhub.models import Project
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

MODEL_KEY = "sk-live-model-key-5a1f0c9e"
HEADER = "Bearer backend-header-7d2b4e11"


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", "--all", stdout=out)
    return out.getvalue()


def _secrets() -> tuple[Project, list[str]]:
    project = make_project()
    LiveModel.objects.create(
        project=project, base_url="https://models.example.com/v1", model="m", api_key=MODEL_KEY
    )
    backend = ModelBackend.objects.create(
        project=project, name="m", url="https://models.example.com/", auth_header=HEADER
    )
    webhook = project_webhook_secret(project=project)
    token = api_token_issue(user=make_user("scripts")).key
    # what the server reads back is the secret itself
    assert LiveModel.objects.get(project=project).api_key == MODEL_KEY
    assert ModelBackend.objects.get(pk=backend.pk).auth_header == HEADER
    assert Project.objects.get(pk=project.pk).webhook_secret == webhook
    return project, [MODEL_KEY, HEADER, webhook, token]


def test_a_dump_of_every_table_holds_none_of_the_secrets():
    _project, secrets = _secrets()
    dump = _dump()
    for secret in secrets:
        assert secret not in dump
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM genai_livemodel")
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:")


def test_an_api_token_works_in_the_authorization_header_and_is_kept_only_as_a_hash(client):
    user = make_user("ana")
    client.force_login(user)
    page = client.post(reverse("account"), {"action": "create-token"}).content.decode()
    key = page.split('data-testid="new-token">')[1].split("<")[0]
    assert key not in _dump()
    api = client.__class__()
    assert api.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert api.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}x").status_code == 401


def test_the_token_route_gives_a_new_token_each_time_and_keeps_none_in_clear(client):
    make_user("ben")
    keys = [
        client.post(
            reverse("api-token"), {"username": "ben", "password": "correct-horse-battery"}
        ).json()["token"]
        for _ in range(2)
    ]
    assert keys[0] != keys[1]
    dump = _dump()
    api = client.__class__()
    for key in keys:
        assert key not in dump
        assert api.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_staff_see_no_api_tokens_in_the_django_admin(client):
    staff = make_user("root")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    api_token_issue(user=staff)
    client.force_login(staff)
    index = client.get("/admin/").content.decode()
    assert "Token" not in index
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


def test_rotate_secrets_encrypts_every_secret_again_with_the_newest_key(settings):
    old = settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    project, _ = _secrets()  # under the old key
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, *old]
    out = io.StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "genai.LiveModel.api_key" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key dropped: everything still reads
    assert LiveModel.objects.get(project=project).api_key == MODEL_KEY
    assert ModelBackend.objects.get(project=project).auth_header == HEADER
    assert Project.objects.get(pk=project.pk).webhook_secret


def test_the_migration_encrypts_secrets_stored_before_it(settings):
    from labelhub.encryption import encrypt_existing

    project = make_project()
    live = LiveModel.objects.create(
        project=project, base_url="https://models.example.com/v1", model="m"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE genai_livemodel SET api_key = %s WHERE id = %s", [MODEL_KEY, live.pk]
        )
    from django.apps import apps

    encrypt_existing(apps, "genai", "LiveModel", "api_key")
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM genai_livemodel WHERE id = %s", [live.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:")
    assert LiveModel.objects.get(pk=live.pk).api_key == MODEL_KEY
