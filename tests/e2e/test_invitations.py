"""An invitation from the People page to a labeled task, with the email read from a real SMTP
server on loopback; then the admin removes the person, and their session and token stop."""

import re
import socket
import threading
import urllib.error
import urllib.request
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect

from annotation.models import Annotation
from annotation.services import task_create
from labelhub.accounts import api_token_issue
from labelhub.models import Invitation, OrganizationMember, ProjectMember, Role
from tests.e2e.test_work_screen import log_in, mounted
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)
LINK = re.compile(r"https?://\S+/invitations/\S+/")


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    try:
        yield inbox
    finally:
        controller.stop()


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_invited_by_email_labels_a_task_then_removal_stops_session_and_token(
    live_server, page: Page, browser: Browser, smtp, console_errors
):
    organization = make_organization("Acme AI")
    olga = make_user("olga", email="olga@acme.example", first_name="Olga")
    OrganizationMember.objects.create(organization=organization, user=olga, is_admin=True)
    schema = {"mode": "rank", "strength_scale": 3, "criteria": [], "rationale": "optional"}
    project = make_project(
        organization=organization,
        kind="ranking",
        name="Assistant answers",
        schema=schema,
        members={olga: Role.MANAGER},
    )
    task_create(
        project=project,
        data={
            "prompt": "Capital of France?",
            "responses": [{"id": "a", "text": "Paris"}, {"id": "b", "text": "Lyon"}],
        },
    )

    # The admin invites a new address from the People page.
    log_in(page, live_server, "olga")
    page.get_by_test_id("people-link").click()
    expect(page.get_by_role("heading", name="People · Acme AI")).to_be_visible()
    page.get_by_label("Email addresses").fill("nadia@example.org")
    page.get_by_label("Role").first.select_option("contributor")
    page.locator("#id_project").first.select_option(label="Assistant answers")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Sent 1 invitation.")).to_be_visible()
    row = page.get_by_test_id("invitation-row").first
    expect(row.get_by_test_id("invitation-state")).to_have_text("Sent")

    # The email, read from the SMTP server, has the link.
    assert smtp.arrived.wait(10), "no email reached the SMTP server"
    [message] = smtp.messages
    assert message["To"] == "nadia@example.org"
    link = LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)

    # The new person follows it in their own browser, sets a password and is on the project.
    context = browser.new_context()
    nadia_page = context.new_page()
    nadia_errors: list[str] = []
    nadia_page.on("console", lambda m: m.type == "error" and nadia_errors.append(m.text))
    nadia_page.goto(link)
    expect(nadia_page.get_by_test_id("invitation-grants")).to_contain_text("Assistant answers")
    form = nadia_page.get_by_test_id("new-person-form")
    form.get_by_label("Your name").fill("Nadia Haddad")
    form.get_by_label("Username").fill("nadia")
    form.get_by_label("Password", exact=True).fill("saffron-meadow-62")
    form.get_by_label("Password again").fill("saffron-meadow-62")
    smtp.arrived.clear()
    form.get_by_role("button", name="Create my account and join").click()
    expect(nadia_page.get_by_test_id("check-email")).to_contain_text("nadia@example.org")
    # The address is proven by a second email: its link finishes the account.
    assert smtp.arrived.wait(10), "no confirmation email reached the SMTP server"
    confirmation = smtp.messages[-1].get_body(preferencelist=("plain",)).get_content()
    nadia_page.goto(re.search(r"https?://\S+/email/confirm/\S+/", confirmation).group(0))
    nadia_page.get_by_test_id("confirm-email").click()
    expect(nadia_page).to_have_url(f"{live_server.url}/projects/{project.pk}/")
    expect(nadia_page.get_by_test_id("current-user")).to_have_text("nadia")

    # … and labels a task.
    nadia_page.get_by_role("link", name="Label", exact=True).click()
    nadia_page.get_by_test_id("start").click()
    mounted(nadia_page)
    nadia_page.keyboard.press("1")
    nadia_page.keyboard.press("2")
    nadia_page.keyboard.press("Control+Enter")
    expect(nadia_page.get_by_test_id("no-more-tasks")).to_be_visible()
    answer = Annotation.objects.get(contributor__username="nadia")
    assert answer.result["order"] == answer.shown_order  # 1 then 2: the order she was shown
    assert sorted(answer.shown_order) == ["a", "b"]
    token = api_token_issue(user=answer.contributor).key
    api = f"{live_server.url}/api/v1/projects/{project.pk}/"
    assert _status(api, token) == 200

    # The People page shows her, with her work; the admin removes her.
    page.reload()
    person = page.locator('[data-testid="person-row"][data-username="nadia"]')
    expect(person).to_contain_text("Nadia Haddad")
    expect(person).to_contain_text("Assistant answers")
    expect(page.get_by_test_id("invitation-state").first).to_have_text("Accepted")
    person.get_by_text("Remove…").click()
    person.get_by_role("button", name="Remove nadia from Acme AI").click()
    expect(page.get_by_text("nadia was removed from Acme AI")).to_be_visible()

    # At once: her token answers 401 and her session is gone.
    assert _status(api, token) == 401
    nadia_page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(nadia_page).to_have_url(re.compile(r"/accounts/login/"))
    assert not ProjectMember.objects.filter(user__username="nadia").exists()
    assert Annotation.objects.filter(contributor__username="nadia").count() == 1  # kept
    context.close()
    assert console_errors == []
    assert nadia_errors == []


def test_a_new_invitation_link_is_shown_at_the_top_with_a_copy_button(
    live_server, page: Page, browser: Browser
):
    organization = make_organization("Acme AI")
    olga = make_user("olga", email="olga@acme.example")
    OrganizationMember.objects.create(organization=organization, user=olga, is_admin=True)
    for n in range(30):  # a long People page: the link must not land below it
        make_user(f"member{n}", organization=organization)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()

    log_in(page, live_server, "olga")
    page.goto(f"{live_server.url}/organizations/{organization.slug}/people/")
    link_form = page.get_by_test_id("link-form")
    link_form.locator("select[name=role]").select_option("member")
    link_form.get_by_role("button", name="Make a link").click()

    panel = page.get_by_test_id("new-link-panel")
    expect(panel).to_be_visible()
    assert panel.bounding_box()["y"] < 400  # at the top, in view without scrolling
    assert page.evaluate("window.scrollY") == 0
    link = page.get_by_test_id("new-link").inner_text()
    assert LINK.fullmatch(link)
    page.get_by_test_id("copy-link").click()
    expect(page.get_by_test_id("copy-link")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    # The address bar shows the People page: a reload reads it, it makes no second link.
    assert page.url.endswith(f"/organizations/{organization.slug}/people/")
    page.get_by_test_id("dismiss-link").click()
    expect(panel).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("new-link-panel")).to_have_count(0)
    assert Invitation.objects.filter(organization=organization).count() == 1
    context.close()
