"""Headers, cookies, CSRF and passwords, with the production settings the suite runs under."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from annotation import queue
from annotation.models import Task
from labelhub.accounts import api_token_issue
from labelhub.models import OrganizationMember, Role
from tests.factories import PASSWORD, make_project, make_task, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    boss, ana = make_user("boss"), make_user("ana")
    project = make_project(members={boss: Role.MANAGER, ana: Role.CONTRIBUTOR})
    OrganizationMember.objects.filter(user=boss).update(is_admin=True)
    task = make_task(project=project)
    return project, boss, ana, task


def page_urls(project, task) -> list[tuple[str, str]]:
    """(who, url) for one page of each type: core, settings, annotation, quality, auth, API docs."""
    p = project.pk
    return [
        ("boss", "/"),
        ("boss", reverse("account")),
        ("boss", reverse("projects:new")),
        ("boss", reverse("projects:detail", args=[p])),
        ("boss", reverse("projects:settings", args=[p])),
        ("boss", reverse("projects:audit", args=[p])),
        ("boss", reverse("annotation:task-list", args=[p])),
        ("boss", reverse("annotation:task-preview", args=[p, task.pk])),
        ("boss", reverse("quality:review-queue", args=[p])),
        ("boss", reverse("quality:dashboard", args=[p])),
        ("ana", reverse("annotation:work", args=[p])),
        ("ana", reverse("quality:my-work", args=[p])),
        ("boss", reverse("password_change")),
        (None, reverse("login")),
        (None, reverse("password_reset")),
        (None, "/api/v1/docs/"),
        ("boss", "/admin/"),
        ("boss", "/projects/999999/"),  # the 404 page
    ]


def test_every_page_type_has_a_strict_csp_and_no_inline_script_or_handlers(client, world):
    project, boss, ana, task = world
    boss.is_staff = True
    boss.save()
    queue.assignment_claim_next(project=project, contributor=ana)  # the work page with an editor
    people = {"boss": boss, "ana": ana}
    for who, url in page_urls(project, task):
        client.logout()
        if who:
            client.force_login(people[who])
        response = client.get(url)
        assert response.status_code in (200, 404), url
        csp = response["Content-Security-Policy"]
        assert "unsafe-inline" not in csp, url
        assert "unsafe-eval" not in csp, url
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "frame-ancestors 'none'" in csp, url
        html = response.content.decode()
        assert re.fullmatch(r"'self'( 'nonce-[\w+/=-]+')?", script_src.strip()), url
        nonce = re.search(r"'nonce-([^']+)'", script_src)
        for tag in re.findall(r"<script\b[^>]*>", html):
            inline_allowed = nonce is not None and f'nonce="{nonce.group(1)}"' in tag
            assert "src=" in tag or inline_allowed, (url, tag)
        # inline event handlers would need 'unsafe-inline' (or hashes) to run
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url
        assert response["X-Content-Type-Options"] == "nosniff", url


def test_secure_flags_on_session_and_csrf_cookies_outside_debug(client, world):
    _project, boss, _ana, _task = world
    login_page = client.get(reverse("login"))
    csrf = login_page.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["samesite"].lower() == "lax"
    response = client.post(
        reverse("login"), {"username": boss.username, "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"].lower() == "lax"
    assert "max-age=31536000" in client.get("/", secure=True)["Strict-Transport-Security"]


@pytest.fixture
def strict(world):
    """A logged-in manager whose client enforces CSRF as a browser would."""
    project, boss, _ana, _task = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    token = client.get(reverse("projects:settings", args=[project.pk])).cookies["csrftoken"].value
    return client, project, token


def test_forms_without_the_csrf_token_are_refused(strict):
    client, project, token = strict
    url = reverse("projects:settings-general", args=[project.pk])
    refused = client.post(url, {"name": "Renamed", "kind": "bbox"})
    assert refused.status_code == 403
    project.refresh_from_db()
    assert project.name != "Renamed"
    accepted = client.post(url, {"name": "Renamed", "kind": "bbox", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    project.refresh_from_db()
    assert project.name == "Renamed"


def test_htmx_requests_need_the_token_header(strict):
    client, project, token = strict
    url = reverse("projects:settings-instructions", args=[project.pk])
    refused = client.post(url, {"instructions": "New"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    ok = client.post(url, {"instructions": "New"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200
    project.refresh_from_db()
    assert project.instructions == "New"


def test_the_api_with_a_session_needs_csrf_but_a_token_does_not(strict, world):
    client, project, _token = strict
    _project, boss, _ana, _task = world
    url = f"/api/v1/projects/{project.pk}/"
    refused = client.patch(url, '{"name": "Via API"}', content_type="application/json")
    assert refused.status_code == 403
    key = api_token_issue(user=boss).key
    scripted = Client(enforce_csrf_checks=True).patch(
        url,
        '{"name": "Via API"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert scripted.status_code == 200


def test_logging_out_needs_a_post_with_the_token(strict):
    client, _project, token = strict
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 403
    assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.parametrize("weak", ["12345678", "password", "short", "anabanana"])
def test_weak_passwords_are_refused(weak, world):
    _project, _boss, ana, _task = world
    ana.username = "anabanana"
    with pytest.raises(ValidationError):
        validate_password(weak, user=ana)


def test_the_password_change_form_applies_the_validators(client, world):
    _project, _boss, ana, _task = world
    client.force_login(ana)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    ana.refresh_from_db()
    assert ana.check_password(PASSWORD)


def test_uploaded_media_is_not_served_from_media_url_only_through_the_checked_view(client, world):
    _project, _boss, ana, task = world
    task = Task.objects.get(pk=task.pk)
    task.media.save("private.png", ContentFile(png_bytes(10, 10).read()))
    outsider = make_user()
    client.force_login(outsider)
    assert client.get("/media/" + task.media.name).status_code == 404
    assert client.get(reverse("annotation:task-media", args=[task.pk])).status_code == 404
    client.force_login(ana)
    assert client.get("/media/" + task.media.name).status_code == 404
    assert client.get(reverse("annotation:task-media", args=[task.pk])).status_code == 200
