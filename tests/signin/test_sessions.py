"""Removal at the provider ends access: sessions are re-checked with the provider every
``recheck_minutes``, and a refusal ends the sessions and the API token at once."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from labelhub.accounts import api_token_create, token_hash
from labelhub.models import ApiToken
from signin import middleware
from signin.models import ProviderSession
from tests.signin.conftest import CLIENT_SECRET, connect, database_text
from tests.signin.flow import sign_in

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
    refresh_token = ProviderSession.objects.get(identity__user=user).refresh_token
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
    first = ProviderSession.objects.get(identity__user=user)
    idp_clean.person("quinn", email="quinn@acme.test", last_name="Renamed")
    clock.advance(61)
    assert client.get("/account/").status_code == 200
    again = ProviderSession.objects.get(identity__user=user)
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
