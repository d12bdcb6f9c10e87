"""The quality dashboard in a real Chromium with little data: no rate from seconds of work, axes
with titles, "not enough data yet" where a chart has nothing honest to draw, agreement per label,
the review rule in a manager's words, charts that open the tasks behind them, and htmx requests
that keep the console clean under the strict CSP."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import ProjectContributor
from annotation.services import task_create_with_media
from labelhub.models import Role
from quality.models import ContributorStanding
from tests.e2e.test_review import log_in
from tests.factories import make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "labels": [
        {"name": "car", "colour": "#e6194b", "hotkey": 1},
        {"name": "person", "colour": "#4363d8", "hotkey": 2},
    ],
    "min_size": 2,
    "allow_empty": True,
}
CAR = {"label": "car", "x": 20, "y": 20, "w": 60, "h": 40}


def answer(project, user, boxes, seconds=27):
    lease = queue.assignment_claim_next(project=project, contributor=user)
    queue.annotation_submit(
        assignment_id=lease.pk, contributor=user, result={"boxes": boxes}, active_seconds=seconds
    )


def test_the_dashboard_is_honest_with_little_data_and_its_charts_open_their_tasks(
    page: Page, live_server, console_errors
):
    ana, ben, maria = make_user("ana"), make_user("ben"), make_user("maria")
    project = make_project(
        schema=SCHEMA,
        quality={"overlap": 2, "review_policy": "none", "agreement_threshold": 0.0},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )
    task = task_create_with_media(
        project=project, media_field="image", file=png_bytes(200, 150), filename="street.png"
    )
    # Both drew the same car; only ana saw a person.
    answer(project, ana, [CAR, {"label": "person", "x": 120, "y": 60, "w": 30, "h": 60}])
    answer(project, ben, [CAR])
    task.refresh_from_db()
    assert task.status == "accepted"
    # Ana's record: 40 checks with 1 error (as reviews would have left it).
    ContributorStanding.objects.filter(contributor__user=ana).update(
        reviewed_count=40, review_error_count=1, review_accepted_count=39
    )
    assert ProjectContributor.objects.get(user=ana).standing.reviewed_count == 40

    log_in(page, live_server, maria)
    page.goto(live_server.url + reverse("quality:dashboard", args=[project.pk]))
    row = page.locator('[data-testid="contributor-row"][data-user="ana"]')
    # 27 seconds of work is no rate per hour.
    expect(row.get_by_test_id("per-hour")).to_have_text("not enough data yet")
    expect(row.get_by_test_id("review-rule")).to_contain_text(
        "After 40 checked answers with 1 error, ana's error rate is at most 11.3%, 95% sure."
    )
    for chart in ("chart-progress", "chart-agreement", "chart-agreement-time", "chart-reviews"):
        svg = page.get_by_test_id(chart)
        assert svg.get_by_test_id("x-title").text_content().strip(), chart
        assert svg.get_by_test_id("y-title").text_content().strip(), chart
    expect(page.get_by_test_id("chart-agreement-time").get_by_test_id("chart-empty")).to_have_text(
        "Not enough data yet: agreement on two days or more"
    )
    expect(page.get_by_test_id("chart-reviews").get_by_test_id("chart-empty")).to_have_text(
        "No reviews yet"
    )
    expect(page.get_by_test_id("chart-accuracy").get_by_test_id("chart-empty")).to_contain_text(
        "nobody has answered a gold task"
    )
    # Agreement per label: the car is agreed on, the person is not.
    labels = page.get_by_test_id("label-agreement")
    expect(labels.locator('[data-label="car"]')).to_contain_text("1.00")
    expect(labels.locator('[data-label="person"]')).to_contain_text("0.00")

    # The header's sort is an htmx request: htmx injects no style (the CSP would refuse it).
    page.get_by_role("link", name="Submitted").click()
    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/quality/?sort=submitted")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("document.querySelectorAll('style').length") == 0

    # A bar opens the tasks behind it, in the data manager.
    page.get_by_test_id("chart-progress").get_by_role("link", name="Accepted: 1 — see them").click()
    expect(page).to_have_url(
        f"{live_server.url}/projects/{project.pk}/tasks/?status=accepted&gold=no"
    )
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    page.go_back()
    page.get_by_test_id("chart-agreement").get_by_role("link").click()  # the one bar with tasks
    expect(page).to_have_url(
        f"{live_server.url}/projects/{project.pk}/tasks/?agreement_min=0.6&agreement_max=0.69999"
    )
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    page.go_back()
    page.get_by_test_id("label-agreement").locator('[data-label="person"]').get_by_role(
        "link"
    ).click()
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    assert console_errors == []
