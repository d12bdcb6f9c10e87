"""Removal at the provider ends access: sessions are re-checked with the provider every
``recheck_minutes``, and a refusal ends the sessions and the API token at once."""

import time
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from labelhub.accounts import api_token_create, token_hash
from labelhub.models import ApiToken, AuditAction, AuditEvent
from signin import middleware
from signin.models import ProviderIdentity, ProviderSession
from signin.services import identities_recheck
from tests.signin.conftest import CLIENT_SECRET, connect, database_text
from tests.signin.flow import sign_in, to_provider

BASE = "http://testserver"


@pytest.fixture
def clock(monkeypatch):
    """The middleware's clock, moved on by ``clock.advance(seconds)``."""

    class Clock:
        offset = 0.0

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    clock = Clock()
    real = time.time
    monkeypatch.setattr(middleware.time, "time", lambda: real() + clock.offset)
    return clock


def _signed_in(client, idp, organization, username):
    idp.person(username, email=f"{username}@acme.test")
    assert sign_in(client, idp.browser_session(username), organization.slug).status_code == 302
    user = get_user_model().objects.get(email=f"{username}@acme.test")
    return user, api_token_create(user=user).key


def test_the_refresh_token_is_not_readable_in_the_database(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    user, _ = _signed_in(client, idp_clean, acme, "vic")
    refresh_token = ProviderIdentity.objects.get(user=user).refresh_token
    assert len(refresh_token) > 20
    assert refresh_token not in database_text()
    assert CLIENT_SECRET not in database_text()


def test_removal_at_the_provider_ends_the_session_and_the_token_at_the_next_check(
    client, idp_clean, acme, clock
):
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    user, token = _signed_in(client, idp_clean, acme, "pam")
    idp_clean.control("delete_person", username="pam")

    clock.advance(30)  # within the interval: no check yet
    assert client.get("/account/").status_code == 200
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200

    clock.advance(31)  # the interval has passed: the provider is asked and says no
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not ApiToken.objects.filter(user=user).exists()
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert not ProviderSession.objects.filter(identity__user=user).exists()


def test_a_person_still_at_the_provider_stays_signed_in_and_refreshed(
    client, idp_clean, acme, clock
):
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    user, token = _signed_in(client, idp_clean, acme, "quinn")
    first = ProviderIdentity.objects.get(user=user)
    idp_clean.person("quinn", email="quinn@acme.test", last_name="Renamed")
    clock.advance(61)
    assert client.get("/account/").status_code == 200
    again = ProviderIdentity.objects.get(user=user)
    assert again.checked_at > first.checked_at
    assert again.refresh_token != first.refresh_token  # the provider rotates it
    user.refresh_from_db()
    assert user.last_name == "Renamed"
    assert ApiToken.objects.filter(key_hash=token_hash(token)).exists()


def test_a_disabled_person_at_the_provider_is_refused_at_the_check(client, idp_clean, acme, clock):
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=5)
    user, _ = _signed_in(client, idp_clean, acme, "rita")
    idp_clean.person("rita", email="rita@acme.test", is_active=False)
    clock.advance(5 * 60 + 1)
    assert client.get("/account/").status_code == 302
    assert not ApiToken.objects.filter(user=user).exists()


def test_between_checks_a_provider_session_costs_no_query_more_than_a_password_one(
    client, idp_clean, acme, django_assert_num_queries
):
    connect(idp_clean, acme, base_url=BASE)
    user, _ = _signed_in(client, idp_clean, acme, "walt")
    client.get("/account/")
    password_client = Client()
    password_client.force_login(user)
    password_client.get("/account/")
    with CaptureQueriesContext(connection) as password_queries:
        password_client.get("/account/")
    with django_assert_num_queries(len(password_queries)):
        assert client.get("/account/").status_code == 200


def test_logging_out_forgets_the_provider_session(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    user, _ = _signed_in(client, idp_clean, acme, "xavi")
    assert ProviderSession.objects.filter(identity__user=user).exists()
    client.post("/accounts/logout/")
    assert not ProviderSession.objects.filter(identity__user=user).exists()


def _later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_removal_at_the_provider_stops_the_api_token_of_someone_logged_out(client, idp_clean, acme):
    """No browser comes back: the background check (``manage.py recheck_identities``) asks the
    provider with the identity's grant, kept after logging out."""
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    _, token = _signed_in(client, idp_clean, acme, "yves")
    client.post("/accounts/logout/")
    api = Client()
    assert api.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert identities_recheck(now=_later(30))["valid"] == 0  # not due yet
    assert identities_recheck(now=_later(61)) == {
        "valid": 1,
        "refused": 0,
        "no_grant": 0,
        "unreachable": 0,
    }
    assert api.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    idp_clean.control("delete_person", username="yves")
    assert identities_recheck(now=_later(2 * 61))["refused"] == 1
    assert api.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert event.actor is None
    assert "Acme SSO no longer vouches for them" in event.summary
    assert identities_recheck(now=_later(3 * 61))["refused"] == 0  # ended once


def test_removal_at_the_provider_ends_an_idle_browsers_session_and_token(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    user, token = _signed_in(client, idp_clean, acme, "zack")
    idp_clean.control("delete_person", username="zack")
    ProviderIdentity.objects.update(checked_at=timezone.now() - timedelta(seconds=61))
    out = StringIO()
    call_command("recheck_identities", stdout=out)  # as cron runs it
    assert "checked 1 in" in out.getvalue()
    assert "refused 1" in out.getvalue()
    assert not ProviderSession.objects.filter(identity__user=user).exists()
    assert client.get("/account/").status_code == 302
    assert Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_the_background_check_keeps_an_idle_persons_grant_alive(client, idp_clean, acme, clock):
    """A provider's refresh token dies some time after its last use (Keycloak's session idle
    timeout). The background check uses it every interval, so a person idle in the browser is
    still vouched for when they come back: their session and token stay."""
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    idp_clean.control("lifetimes", access=2, refresh=2)  # a refresh token dies 4 s after its use
    _, token = _signed_in(client, idp_clean, acme, "abel")
    time.sleep(2.5)
    clock.advance(61)
    assert identities_recheck(now=_later(61))["valid"] == 1
    time.sleep(2.5)  # the sign-in's own refresh token is dead by now; the rotated one is not
    clock.advance(61)
    assert client.get("/account/").status_code == 200
    assert Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_the_sign_in_asks_for_offline_access_when_the_provider_offers_it(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    query = parse_qs(urlsplit(to_provider(client, acme.slug)).query)
    assert query["scope"] == ["openid email profile groups offline_access"]


def test_someone_the_provider_gave_no_refresh_token_is_not_vouched_for_past_the_interval(
    client, idp_clean, acme
):
    """Fail closed: with no grant to ask the provider with (Google gives none to this flow), the
    API token ends once the last sign-in is older than the interval; signing in again starts it
    over."""
    connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    _, token = _signed_in(client, idp_clean, acme, "gil")
    ProviderIdentity.objects.update(refresh_token="")
    assert identities_recheck(now=_later(30))["no_grant"] == 0
    assert identities_recheck(now=_later(61))["no_grant"] == 1
    assert Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert ProviderIdentity.objects.get().access_ended_at is not None
    assert sign_in(Client(), idp_clean.browser_session("gil"), acme.slug).status_code == 302
    assert ProviderIdentity.objects.get().access_ended_at is None
