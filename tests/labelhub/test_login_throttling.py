import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_login_even_for_the_right_password(client):
    make_user("ana")
    url = reverse("login")
    for _ in range(2):
        response = client.post(url, {"username": "ana", "password": "wrong"})
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    locked = client.post(url, {"username": "ana", "password": "wrong"})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    still_locked = client.post(url, {"username": "ana", "password": PASSWORD})
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="ana").exists()


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_a_successful_login_resets_the_count(client):
    make_user("ben")
    url = reverse("login")
    for _ in range(2):
        client.post(url, {"username": "ben", "password": "wrong"})
    assert client.post(url, {"username": "ben", "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(2):
        assert client.post(url, {"username": "ben", "password": "wrong"}).status_code == 200
