"""A blocked Submit on the work screen, in a real Chromium: the count of what is left sits next
to the button, every missing item is marked, and the focus moves to the first one, in view."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation.models import Task
from labelhub.models import Role
from tests.e2e.test_review import log_in
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "modes": ["rate"],
    "criteria": [
        {"name": "accuracy", "scale": 5, "per": "turn"},
        {"name": "helpfulness", "scale": 3, "per": "turn"},
    ],
    "error_types": [],
}
LONG = "A long reply. " * 80
MESSAGES = [
    {"role": "user", "content": "First question?"},
    {"role": "assistant", "content": LONG},
    {"role": "user", "content": "Second question?"},
    {"role": "assistant", "content": LONG},
]


def test_a_blocked_submit_moves_to_the_first_missing_score(live_server, page: Page):
    ana = make_user("ana")
    project = make_project(kind="conversation", schema=SCHEMA, members={ana: Role.CONTRIBUTOR})
    Task.objects.create(project=project, data={"messages": MESSAGES})
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, ana)
    page.goto(live_server.url + reverse("annotation:work", args=[project.pk]))
    start = page.get_by_test_id("start")
    if start.count():
        start.click()
    page.wait_for_selector("[data-editor-root][data-mounted=true]", state="attached")

    # One of the four scores given, by mouse: turn 1's accuracy.
    first_turn = page.locator(".chat-turn[data-index='1']")
    first_turn.locator("[data-criterion=accuracy] button[data-point='4']").click()
    page.get_by_test_id("submit").click()

    expect(page.get_by_test_id("submit-missing")).to_have_text("3 missing")
    expect(page.locator("[data-show-missing=true] .rubric-criterion.missing")).to_have_count(3)
    focused = page.evaluate(
        "() => [document.activeElement.closest('[data-criterion]')?.dataset.criterion,"
        " document.activeElement.closest('.chat-turn')?.dataset.index]"
    )
    assert focused == ["helpfulness", "1"]
    box = page.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")
    assert box["top"] >= 0  # in view …
    assert box["bottom"] <= 800  # … not under the Submit bar
    assert not Task.objects.get().annotations.exists()

    # Giving the missing scores brings the count down, then clears it.
    page.keyboard.press("Enter")  # the focused point: helpfulness 1 of turn 1
    expect(page.get_by_test_id("submit-missing")).to_have_text("2 missing")
    second = page.locator(".chat-turn[data-index='3']")
    second.locator("[data-criterion=accuracy] button[data-point='3']").click()
    second.locator("[data-criterion=helpfulness] button[data-point='2']").click()
    expect(page.get_by_test_id("submit-missing")).to_be_hidden()
