"""The review app and the dashboard in a real Chromium: a reviewer accepts, rejects and fixes by
keyboard; a manager sees the dashboard and pauses a contributor."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import ContributorStatus, ProjectContributor, Task, TaskStatus
from quality.models import AnnotationReview, AnswerJudgement
from tests.e2e.conftest import wait_js
from tests.quality.helpers import make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def answer(project, user, preference: str) -> None:
    assignment = queue.assignment_claim_next(project=project, contributor=user)
    queue.annotation_submit(
        assignment_id=assignment.pk,
        contributor=user,
        result={"preference": preference, "strength": 1},
        active_seconds=20,
    )


@pytest.fixture
def in_review():
    project, people, reviewer, manager = make_quality_project(
        contributors=1, quality={"review_policy": "share", "review_share": 1.0}
    )
    tasks = make_ranking_tasks(project, 3)
    for _ in tasks:
        answer(project, people[0], "a")
    assert {t.status for t in Task.objects.filter(project=project)} == {TaskStatus.IN_REVIEW}
    return project, people, reviewer, manager, tasks


def wait_for_editor(page: Page) -> None:
    page.wait_for_selector("[data-editor-root][data-mounted=true]")
    wait_js(page, "document.body.dataset.reviewMode === 'review'")


def test_reviewer_accepts_rejects_and_fixes_by_keyboard(
    page: Page, live_server, in_review, console_errors
):
    project, people, reviewer, _, tasks = in_review
    log_in(page, live_server, reviewer)
    page.goto(live_server.url + reverse("quality:review-next", args=[project.pk]))

    wait_for_editor(page)
    expect(page.get_by_test_id("review-reason")).to_contain_text("Reviewing every one of C0's")
    page.keyboard.press("a")  # accept
    page.wait_for_url(f"**/reviews/{tasks[1].pk}/")

    wait_for_editor(page)
    page.keyboard.press("r")  # to the reason
    page.keyboard.type("Response B answers the question; A does not.")
    page.get_by_test_id("reject").click()
    page.wait_for_url(f"**/reviews/{tasks[2].pk}/")

    wait_for_editor(page)
    page.keyboard.press("f")  # fix mode: the editor's own keys are live
    expect(page.get_by_test_id("save-fix")).to_be_visible()
    page.keyboard.press("b")
    page.keyboard.press("Alt+Enter")
    page.wait_for_url("**/reviews/")
    expect(page.get_by_test_id("review-empty")).to_be_visible()

    accepted, rejected, fixed = (Task.objects.select_related("outcome").get(pk=t.pk) for t in tasks)
    assert accepted.status == TaskStatus.ACCEPTED
    assert accepted.outcome.accepted_result["preference"] == "a"
    assert rejected.status == TaskStatus.OPEN
    assert AnnotationReview.objects.get(annotation__task=rejected).judgement == (
        AnswerJudgement.REJECTED
    )
    assert fixed.status == TaskStatus.ACCEPTED
    assert fixed.outcome.accepted_result["preference"] == "b"
    assert console_errors == []

    # The contributor sees the verdicts and the reason on their own page.
    log_in(page, live_server, people[0])
    page.goto(live_server.url + reverse("quality:my-work", args=[project.pk]))
    expect(page.get_by_test_id("my-work")).to_contain_text("Response B answers the question")
    expect(page.get_by_test_id("my-work")).to_contain_text("Corrected by the reviewer")


def test_manager_sees_the_dashboard_and_pauses_a_contributor(
    page: Page, live_server, in_review, console_errors
):
    project, people, _, manager, _ = in_review
    log_in(page, live_server, manager)
    page.goto(live_server.url + reverse("quality:dashboard", args=[project.pk]))
    expect(page.get_by_test_id("progress")).to_contain_text("In review 3")  # statuses in words
    expect(page.get_by_test_id("chart-progress")).to_be_visible()
    row = page.get_by_test_id("contributor-row").filter(has_text="C0")
    expect(row.get_by_test_id("review-rule")).to_contain_text("Reviewing every one of C0's tasks")
    row.get_by_role("textbox").fill("Rushing: slow down and read both answers.")
    row.get_by_test_id("pause").click()
    row = page.get_by_test_id("contributor-row").filter(has_text="C0")
    expect(row.get_by_test_id("pause-reason")).to_have_text(
        "Rushing: slow down and read both answers."
    )
    assert ProjectContributor.objects.get(user=people[0]).status == ContributorStatus.PAUSED
    row.get_by_test_id("resume").click()
    expect(page.get_by_test_id("contributor-row").filter(has_text="C0")).to_contain_text("Active")
    assert console_errors == []
