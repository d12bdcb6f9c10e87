"""Appeals in a real Chromium: the contributor appeals a rejection from My work, a manager
reverses it with a reason, and the contributor sees the reversal, the reason and, on their
statement, the pay given back."""

import contextlib
import re

import pytest
from playwright.sync_api import Page, expect

from appeals.models import Appeal, AppealStatus
from appeals.services import appeal_file_rejection
from quality.models import AnnotationReview, AnswerJudgement
from quality.services import review_record
from tests.appeals.helpers import rejected_answer
from tests.e2e.test_review import log_in
from tests.pay.helpers import answer as pay_answer
from tests.pay.helpers import paid_project
from tests.quality.helpers import make_ranking_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def _run_on_commit(execute=True):
    """Transactional tests commit for real: on-commit hooks run by themselves."""
    return contextlib.nullcontext()


def test_contributor_appeals_a_rejection_and_a_manager_reverses_it(
    page: Page, live_server, browser, console_errors
):
    project, people, _reviewer, manager, _task, annotation, _ = rejected_answer(_run_on_commit)
    ana = people[0]

    log_in(page, live_server, ana)
    page.goto(f"{live_server.url}/projects/{project.pk}/my-work/")
    expect(page.get_by_test_id("my-summary")).to_contain_text("Reviews accepted")
    expect(page.get_by_test_id("my-summary")).to_contain_text("0 of 1")
    expect(page.get_by_test_id("my-earnings-amount")).to_have_text("0.10 USD")  # rejected rate
    row = page.get_by_test_id("my-work-row")
    expect(row).to_contain_text("Rejected")
    row.get_by_test_id("appeal-open").click()
    row.get_by_test_id("appeal-comment").fill("Response A answers exactly what was asked.")
    row.get_by_test_id("appeal-submit").click()
    expect(page.get_by_test_id("appeal-outcome")).to_contain_text("Appeal waiting")
    expect(page.get_by_test_id("my-appeals")).to_contain_text("Open")

    manager_context = browser.new_context()
    console_errors.watch(manager_context)
    desk = manager_context.new_page()
    log_in(desk, live_server, manager)
    desk.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(desk.get_by_test_id("nav-appeals-open")).to_have_text("1 open")
    desk.get_by_test_id("nav-appeals").click()
    desk.get_by_test_id("appeal-link").first.click()
    expect(desk.get_by_test_id("appeal-comment")).to_contain_text("answers exactly what was asked")
    expect(desk.get_by_test_id("reviewer-comment")).to_contain_text("A misses the question.")
    expect(desk.get_by_test_id("appeal-card-answer")).to_be_visible()
    desk.get_by_test_id("decision-reason").fill("A is right: the reviewer misread the prompt.")
    desk.get_by_test_id("reverse").click()
    expect(desk.get_by_test_id("appeal-row").first).to_contain_text("Reversed")
    manager_context.close()

    appeal = Appeal.objects.get()
    assert appeal.status == AppealStatus.REVERSED
    judgement = AnnotationReview.objects.get(annotation=annotation)
    assert judgement.judgement == AnswerJudgement.REINSTATED

    page.reload()
    outcome = page.get_by_test_id("appeal-outcome")
    expect(outcome).to_contain_text("Appeal: reversed")
    expect(outcome).to_contain_text("A is right: the reviewer misread the prompt.")
    expect(page.get_by_test_id("my-work-row")).to_contain_text("reinstated on appeal")
    expect(page.get_by_test_id("my-summary")).to_contain_text("1 of 1")
    expect(page.get_by_test_id("my-earnings-amount")).to_have_text("0.50 USD")  # accepted again

    # The statement shows the reversal as an entry of its own, beside the rejection it undoes.
    page.get_by_test_id("earnings-link").click()
    expect(page.get_by_test_id("amount-due")).to_have_text("0.50 USD")
    reversal = page.locator("[data-testid=statement-entry][data-event=appeal_reversed]")
    expect(reversal).to_have_count(1)
    expect(reversal).to_contain_text("Reversed on appeal")
    expect(reversal).to_contain_text("0.40")
    rejection = page.locator("[data-testid=statement-entry][data-event=rejected]")
    expect(rejection).to_contain_text("-0.40")
    expect(page.get_by_test_id("line-reversals")).to_have_text("0.40")


def test_a_reversed_rejection_goes_to_someone_other_than_the_overruled_reviewer(
    page: Page, live_server
):
    project, people, reviewer, manager, task, annotation, _judgement = rejected_answer(
        _run_on_commit
    )
    appeal = appeal_file_rejection(
        annotation_id=annotation.pk, user=people[0], comment="A is what was asked."
    )

    # The decider reads the rejected answer as what it is, not as "the task's consensus".
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/appeals/{appeal.pk}/")
    expect(page.get_by_test_id("appeal-card-answer")).to_contain_text("as it was rejected")
    expect(page.locator("body")).not_to_contain_text("consensus")
    page.get_by_test_id("decision-reason").fill("A is right.")
    page.get_by_test_id("reverse").click()
    expect(page.get_by_test_id("appeal-row").first).to_contain_text("Reversed")
    task.refresh_from_db()
    assert task.status == "in_review"  # the answer counts again and is sampled for review

    # The overruled reviewer no longer gets the task; the manager does.
    page.goto(f"{live_server.url}/projects/{project.pk}/reviews/")
    expect(page.locator(f"[data-testid=review-row][data-task='{task.pk}']")).to_have_count(1)
    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/projects/{project.pk}/reviews/")
    expect(page.get_by_test_id("review-empty")).to_be_visible()
    expect(page.locator("[data-testid=review-row]")).to_have_count(0)


def test_my_work_says_fixed_by_review_and_links_the_fix(page: Page, live_server):
    project, people, reviewer, _manager = paid_project(contributors=1)
    (task,) = make_ranking_tasks(project, 1)
    pay_answer(_run_on_commit, project=project, user=people[0], preference="a")
    task.refresh_from_db()
    review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="fix",
        version=task.outcome.version,
        comment="B is the better answer.",
        result={"preference": "b", "strength": 1},
    )

    log_in(page, live_server, people[0])
    page.goto(f"{live_server.url}/projects/{project.pk}/my-work/")
    row = page.get_by_test_id("my-work-row")
    expect(row.get_by_test_id("fixed-by-review")).to_have_text("Fixed by review")
    expect(row).not_to_contain_text("Accepted")
    row.get_by_test_id("see-fix").click()
    expect(page).to_have_url(re.compile(r"/my-work/\d+/#answer-outcome$"))
    expect(page.get_by_test_id("my-reviews")).to_contain_text("Fixed by review")
    expect(page.locator("#answer-outcome")).to_contain_text("The reviewer's fix")
