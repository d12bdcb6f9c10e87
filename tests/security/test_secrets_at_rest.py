"""Secrets at rest: a dump of every table holds none of them (issue #24, item 7).

The dump is every table read with plain SQL, as ``pg_dump`` or a stolen disk would see it.

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
from django.utils import timezone

from annotation.webhooks import project_webhook_secret
from backends.models import ModelBackend
from evals.models import EvalModel, Judge
from genai.models import LiveModel
from labelhub.accounts import api_token_issue
from labelhub.encryption import encrypted_fields
from labelhub.models import Project
from signin.models import ProviderConfig, ProviderIdentity, ProviderSession
from signin.services import scim_token_create
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

MODEL_KEY = "sk-live-model-key-5a1f0c9e"
HEADER = "Bearer backend-header-7d2b4e11"
EVALS_KEY = "sk-evals-model-key-93c0aa27"
JUDGE_KEY = "sk-evals-judge-key-0b5e71d4"
CLIENT_SECRET = "oidc-client-secret-41e8d6b2"
REFRESH_TOKEN = "oidc-refresh-token-c2f7a390"


def _text(value) -> str:
    if isinstance(value, memoryview | bytes):
        return bytes(value).decode("latin-1")
    return str(value)


def _dump() -> str:
    """Every value of every row of every table, read with plain SQL: what a database dump (or a
    stolen disk) holds. Not through the models, whose encrypted fields decrypt on reading, nor
    ``dumpdata``, which encrypts on output whatever is stored."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values.extend(_text(value) for row in cursor.fetchall() for value in row)
    return "\n".join(values)


def _secrets() -> tuple[Project, list[str]]:
    project = make_project()
    LiveModel.objects.create(
        project=project, base_url="https://models.example.com/v1", model="m", api_key=MODEL_KEY
    )
    backend = ModelBackend.objects.create(
        project=project, name="m", url="https://models.example.com/", auth_header=HEADER
    )
    webhook = project_webhook_secret(project=project)
    person = make_user("scripts")
    token = api_token_issue(user=person).key
    evaluated = EvalModel.objects.create(
        project=project, name="m", base_url="https://eval.example.com/v1", model="m",
        api_key=EVALS_KEY,
    )  # fmt: skip
    judge = Judge.objects.create(
        project=project, name="j", base_url="https://judge.example.com/v1", model="j",
        api_key=JUDGE_KEY,
    )  # fmt: skip
    provider = ProviderConfig.objects.create(
        organization=project.organization,
        display_name="Acme SSO",
        issuer="https://login.acme.test",
        client_id="labelhub",
        client_secret=CLIENT_SECRET,
    )
    # The provider's refresh grant is kept on the person's link to it, not on a browser session.
    identity = ProviderIdentity.objects.create(
        provider=provider,
        subject="sub-1",
        user=person,
        email="scripts@acme.test",
        refresh_token=REFRESH_TOKEN,
        checked_at=timezone.now(),
    )
    ProviderSession.objects.create(
        identity=identity, session_key="s" * 32, checked_at=timezone.now()
    )
    scim = scim_token_create(organization=project.organization)
    # what the server reads back is the secret itself
    assert LiveModel.objects.get(project=project).api_key == MODEL_KEY
    assert ModelBackend.objects.get(pk=backend.pk).auth_header == HEADER
    assert Project.objects.get(pk=project.pk).webhook_secret == webhook
    assert EvalModel.objects.get(pk=evaluated.pk).api_key == EVALS_KEY
    assert Judge.objects.get(pk=judge.pk).api_key == JUDGE_KEY
    assert ProviderConfig.objects.get(pk=provider.pk).client_secret == CLIENT_SECRET
    assert ProviderIdentity.objects.get().refresh_token == REFRESH_TOKEN
    return project, [
        MODEL_KEY,
        HEADER,
        webhook,
        token,
        EVALS_KEY,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        scim,
    ]


def test_a_dump_of_every_table_holds_none_of_the_secrets():
    _project, secrets = _secrets()
    dump = _dump()
    assert "https://judge.example.com/v1" in dump  # the dump does read every table
    for secret in secrets:
        assert secret not in dump
    for model, field in encrypted_fields():
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field(field).column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
            stored = [value for (value,) in cursor.fetchall()]
        assert stored, f"no {model.__name__}.{field} was stored"
        assert all(value.startswith("fernet:") for value in stored), (model, field)


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
