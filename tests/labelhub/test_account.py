import pytest
from django.urls import reverse

from labelhub.models import ApiToken, AuditAction, AuditEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def api_get(client, key: str):
    return client.get(reverse("api-schema"), headers={"Authorization": f"Token {key}"})


def test_token_made_on_the_account_page_authenticates_api_calls_until_revoked(client):
    user = make_user("ana")
    client.force_login(user)
    response = client.post(reverse("account"), {"action": "create-token"})
    assert response.status_code == 200
    key = response.content.decode().split('data-testid="new-token">')[1].split("<")[0]
    assert ApiToken.objects.get(user=user).prefix == key[:6]
    assert client.get(reverse("account")).content.decode().count(key) == 0  # shown only once

    api = client.__class__()
    assert api_get(api, key).status_code == 200

    client.post(reverse("account"), {"action": "revoke-token"})
    assert not ApiToken.objects.filter(user=user).exists()
    assert api_get(api, key).status_code == 401
    actions = list(AuditEvent.objects.filter(actor=user).values_list("action", flat=True))
    assert actions == [AuditAction.TOKEN_REVOKED, AuditAction.TOKEN_CREATED]


def test_replacing_a_token_stops_the_old_one(client):
    user = make_user()
    client.force_login(user)
    new_token = 'data-testid="new-token">'
    page = client.post(reverse("account"), {"action": "create-token"}).content.decode()
    old = page.split(new_token)[1].split("<")[0]
    page = client.post(reverse("account"), {"action": "create-token"}).content.decode()
    new = page.split(new_token)[1].split("<")[0]
    assert old != new
    api = client.__class__()
    assert api_get(api, old).status_code == 401
    assert api_get(api, new).status_code == 200


def test_token_endpoint_trades_username_and_password_for_the_token(client):
    user = make_user("ben")
    response = client.post(
        reverse("api-token"), {"username": "ben", "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert ApiToken.objects.get(user=user).prefix == key[:6]
    bad = client.post(reverse("api-token"), {"username": "ben", "password": "nope"})
    assert bad.status_code == 400
    assert "non_field_errors" in bad.json()


def test_account_page_needs_login_and_rejects_unknown_actions(client):
    assert client.get(reverse("account")).status_code == 302
    client.force_login(make_user())
    assert client.post(reverse("account"), {"action": "drop-tables"}).status_code == 400
