"""A real Chromium logs in through the real form and finds its projects by role."""

import pytest
from playwright.sync_api import Page, expect

from labelhub.models import Role
from tests.factories import PASSWORD, make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_contributor_logs_in_and_sees_projects_grouped_by_role(
    live_server, page: Page, console_errors
):
    ana = make_user("ana")
    make_project(name="Street boxes", members={ana: Role.CONTRIBUTOR})
    make_project(name="Chat rankings", kind="ranking", members={ana: Role.REVIEWER})
    make_project(name="Someone else's", members={make_user(): Role.MANAGER})

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_test_id("current-user")).to_have_text("ana")
    label = page.locator("section", has=page.get_by_role("heading", name="Label"))
    review = page.locator("section", has=page.get_by_role("heading", name="Review"))
    expect(label.get_by_role("heading", name="Street boxes")).to_be_visible()
    expect(review.get_by_role("heading", name="Chat rankings")).to_be_visible()
    expect(page.get_by_text("Someone else's")).to_have_count(0)

    page.get_by_label("Filter projects").fill("chat")
    expect(page.get_by_role("heading", name="Street boxes")).to_have_count(0)
    expect(page.get_by_role("heading", name="Chat rankings")).to_be_visible()
    assert console_errors == []  # no CSP violation, no script error


def test_wrong_password_shows_a_clear_message(live_server, page: Page):
    make_user("ana")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")
