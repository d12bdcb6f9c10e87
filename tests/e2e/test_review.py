"""The review app and the dashboard in a real Chromium: a reviewer accepts, rejects and fixes by
keyboard; a manager sees the dashboard and pauses a contributor."""

import re
import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import Annotation, ContributorStatus, ProjectContributor, Task, TaskStatus
from annotation.services import task_create_with_media
from labelhub.models import Role
from quality.models import AnnotationReview, AnswerJudgement
from tests.e2e.conftest import wait_js
from tests.factories import make_project, make_user
from tests.media import png_bytes
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


def _late(route) -> None:
    time.sleep(1.0)
    route.continue_()


def test_reviewer_accepts_rejects_and_fixes_by_keyboard(
    page: Page, live_server, in_review, console_errors
):
    project, people, reviewer, _, tasks = in_review
    # The review module's own import comes late (a loaded server, a cold cache): the editor is
    # mounted before the module runs, which must still see it (it once waited for an event
    # that had already fired, and the review mode never came: issue #24).
    page.route("**/lib/reveal*.js", _late)
    log_in(page, live_server, reviewer)
    page.goto(live_server.url + reverse("quality:review-next", args=[project.pk]))

    wait_for_editor(page)
    expect(page.get_by_test_id("review-reason")).to_contain_text("Reviewing every one of C0's")
    # `?` lists the verdict keys beside the editor's.
    page.keyboard.press("?")
    help_dialog = page.get_by_test_id("shortcut-help")
    expect(help_dialog).to_contain_text("Review")
    for key, words in (
        ("Alt+A", "Accept"),
        ("Alt+R", "Reject"),
        ("Alt+F", "Fix it in the editor"),
        ("Alt+Enter", "Save the fix"),
    ):
        expect(help_dialog.locator("tr", has_text=words).locator("kbd")).to_have_text(key)
    # A letter means one thing: R is the editor's "Write the rationale", nowhere "reject".
    expect(
        help_dialog.locator("tr", has=page.locator("kbd", has_text=re.compile("^R$")))
    ).to_have_text(re.compile("rationale"))
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("editor-starts")).to_have_text("The editor starts from C0's answer.")
    page.keyboard.press("Alt+a")  # accept
    page.wait_for_url(f"**/reviews/{tasks[1].pk}/")

    wait_for_editor(page)
    page.keyboard.press("Alt+r")  # to the reason
    page.keyboard.type("Response B answers the question; A does not.")
    page.get_by_test_id("reject").click()
    page.wait_for_url(f"**/reviews/{tasks[2].pk}/")

    wait_for_editor(page)
    page.keyboard.press("Alt+f")  # fix mode: the editor's own keys are live
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
    expect(page.get_by_test_id("my-work")).to_contain_text("Fixed by review")
    expect(page.get_by_test_id("my-work")).to_contain_text("your answer counts as wrong")


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


BOX_SCHEMA = {
    "labels": [
        {"name": "car", "colour": "#e6194b", "hotkey": 1},
        {"name": "person", "colour": "#4363d8", "hotkey": 2},
    ],
    "min_size": 2,
    "allow_empty": True,
}


def answer_with(project, user, result: dict) -> None:
    lease = queue.assignment_claim_next(project=project, contributor=user)
    queue.annotation_submit(
        assignment_id=lease.pk, contributor=user, result=result, active_seconds=20
    )


def messages_saying(page: Page, text: str):
    return page.locator(".message").filter(has_text=text)


def test_disagreeing_answers_side_by_side_and_the_fix_started_from_one_of_them(
    page: Page, live_server, console_errors
):
    ana, ben, rui = make_user("ana"), make_user("ben"), make_user("rui")
    project = make_project(
        schema=BOX_SCHEMA,
        quality={"overlap": 2, "review_policy": "none", "agreement_threshold": 0.9},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, rui: Role.REVIEWER},
    )
    task = task_create_with_media(
        project=project, media_field="image", file=png_bytes(200, 150), filename="street.png"
    )
    anas = {"label": "car", "x": 20, "y": 20, "w": 60, "h": 40}
    answer_with(project, ana, {"boxes": [anas]})
    answer_with(project, ben, {"boxes": [{"label": "person", "x": 120, "y": 80, "w": 50, "h": 50}]})
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.proposal["boxes"] == []  # nothing both drew: the consensus is empty

    log_in(page, live_server, rui)
    page.goto(live_server.url + reverse("quality:review-next", args=[project.pk]))
    wait_for_editor(page)
    expect(page.get_by_test_id("disagreement")).to_contain_text("The 2 answers disagree")
    expect(page.get_by_test_id("disagreement")).to_contain_text("their consensus is empty")
    accept = page.get_by_test_id("accept")
    expect(accept).to_contain_text("Accept the empty consensus")
    expect(accept).not_to_have_class(re.compile(r"\bprimary\b"))  # not the highlighted action
    # The two answers side by side, each drawn over the image.
    cards = page.get_by_test_id("review-answer")
    expect(cards).to_have_count(2)
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2
    assert second["x"] > first["x"] + first["width"] - 2
    expect(cards.nth(0).get_by_test_id("answer-boxes")).to_be_visible()

    # One click loads ana's answer into the editor and starts the fix from it.
    cards.filter(has_text="ana").get_by_test_id("fix-from").click()
    expect(page.get_by_test_id("fix-hint")).to_contain_text("Fixing from ana's answer")
    boxes = page.evaluate("window.labelhubEditor.getResult().boxes")
    assert [(b["label"], b["x"], b["y"], b["w"], b["h"]) for b in boxes] == [
        ("car", 20, 20, 60, 40)
    ]
    page.keyboard.press("Alt+Enter")
    page.wait_for_url("**/reviews/")
    expect(messages_saying(page, "your fix is the accepted answer")).to_have_count(1)
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert [b["label"] for b in task.outcome.accepted_result["boxes"]] == ["car"]
    assert console_errors == []


def test_reject_takes_only_the_answers_marked_wrong_and_errors_sit_by_their_field(
    page: Page, live_server, console_errors
):
    console_errors.expect("status of 422")  # the two refused verdicts, on purpose
    project, people, reviewer, _ = make_quality_project(
        contributors=2, quality={"overlap": 2, "review_policy": "none", "agreement_threshold": 0.9}
    )
    (task,) = make_ranking_tasks(project, 1, overlap=2)
    answer(project, people[0], "a")
    answer(project, people[1], "b")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    log_in(page, live_server, reviewer)
    page.goto(live_server.url + reverse("quality:review", args=[project.pk, task.pk]))
    wait_for_editor(page)
    marks = page.get_by_test_id("mark-wrong")
    expect(marks).to_have_count(2)
    for i in range(2):
        expect(marks.nth(i)).not_to_be_checked()  # nothing is rejected unless marked

    # No reason: the error is under the reason field, once, and nowhere else.
    page.get_by_test_id("reject").click()
    reject_box = page.locator("fieldset.reject")
    expect(reject_box.get_by_test_id("comment-error")).to_contain_text("Say why you reject it")
    expect(page.get_by_text("Say why you reject it")).to_have_count(1)
    expect(page.get_by_test_id("review-error")).to_have_count(0)
    expect(page.get_by_test_id("comment")).to_have_attribute("aria-invalid", "true")

    # A reason but no answer marked wrong: that error, and the reason is kept.
    page.get_by_test_id("comment").fill("Response A does not answer the question.")
    page.get_by_test_id("reject").click()
    expect(reject_box.get_by_test_id("annotations-error")).to_contain_text(
        "Mark the answers that are wrong"
    )
    expect(page.get_by_test_id("comment")).to_have_value("Response A does not answer the question.")

    wrong = Annotation.objects.get(task=task, contributor=people[0])
    page.locator(f'[data-testid="review-answer"][data-annotation="{wrong.pk}"]').get_by_test_id(
        "mark-wrong"
    ).check()
    page.get_by_test_id("reject").click()
    page.wait_for_url("**/reviews/")
    expect(messages_saying(page, "1 answer rejected")).to_have_count(1)
    expect(page.get_by_text("other contributors will answer it")).to_have_count(1)
    judged = dict(
        AnnotationReview.objects.filter(annotation__task=task).values_list(
            "annotation__contributor_id", "judgement"
        )
    )
    assert judged == {people[0].pk: AnswerJudgement.REJECTED}  # C1's answer still counts
    task.refresh_from_db()
    assert (task.status, task.answer_count) == (TaskStatus.OPEN, 1)
    assert console_errors == []


def test_a_rejected_answer_goes_back_to_its_author_and_comes_back_corrected(
    page: Page, live_server, console_errors
):
    ana, rui, maria = make_user("ana"), make_user("rui"), make_user("maria")
    project = make_project(
        kind="ranking",
        # Imported order on every screen: the keys below name responses by their place.
        quality={"review_policy": "share", "review_share": 1.0, "shuffle_candidates": 0},
        members={ana: Role.CONTRIBUTOR, rui: Role.REVIEWER, maria: Role.MANAGER},
    )
    (task,) = make_ranking_tasks(project, 1)

    # The manager chooses, on the settings form, that rejected answers go back to their author.
    log_in(page, live_server, maria)
    page.goto(live_server.url + reverse("projects:settings", args=[project.pk]))
    quality = page.locator("#quality")
    quality.get_by_label("Back to its author").check()
    quality.get_by_role("button", name="Save quality bars").click()
    expect(quality.get_by_role("status")).to_have_text("Saved.")
    project.refresh_from_db()
    assert project.quality["rejected_to"] == "author"

    answer(project, ana, "a")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW

    # The reviewer rejects it, and it goes back to ana (there is nobody else to answer it).
    log_in(page, live_server, rui)
    page.goto(live_server.url + reverse("quality:review-next", args=[project.pk]))
    wait_for_editor(page)
    expect(page.get_by_test_id("reject")).to_have_text("Reject and send back to the author")
    page.keyboard.press("Alt+r")
    page.keyboard.type("B answers the question; A does not.")
    page.get_by_test_id("reject").click()
    page.wait_for_url("**/reviews/")
    expect(messages_saying(page, "it goes back to the author to correct")).to_have_count(1)

    # Ana finds it in My work, opens it from there and corrects it on the work screen.
    log_in(page, live_server, ana)
    page.goto(live_server.url + reverse("quality:my-work", args=[project.pk]))
    row = page.get_by_test_id("my-work-row")
    expect(row.get_by_test_id("sent-back")).to_have_text("Sent back to you")
    expect(row).to_contain_text("B answers the question; A does not.")
    row.get_by_test_id("correct-it").click()
    page.wait_for_selector("[data-editor-root][data-mounted=true]")
    expect(page.get_by_test_id("work-note")).to_contain_text("B answers the question; A does not.")
    assert page.evaluate("window.labelhubEditor.getResult().preference") == "a"
    page.keyboard.press("b")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    assert Annotation.objects.get(task=task).result["preference"] == "b"
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW  # judged again: this project reviews everything

    # The reviewer sees the corrected answer and accepts it.
    log_in(page, live_server, rui)
    page.goto(live_server.url + reverse("quality:review-next", args=[project.pk]))
    wait_for_editor(page)
    expect(page.get_by_test_id("answer-summary")).to_have_text("b (strength 1)")
    page.keyboard.press("Alt+a")
    page.wait_for_url("**/reviews/")
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert task.outcome.accepted_result["preference"] == "b"

    # Ana's page for the answer: both versions, the accepted one and what the reviewer said.
    log_in(page, live_server, ana)
    page.goto(live_server.url + reverse("quality:my-work", args=[project.pk]))
    page.get_by_test_id("my-answer-link").click()
    cards = page.get_by_test_id("my-answer-cards")
    expect(cards).to_contain_text("Your corrected answer")
    expect(cards).to_contain_text("Your answer as it was rejected")
    expect(cards).to_contain_text("The accepted answer")
    expect(page.get_by_test_id("reviewer-comment")).to_have_text(
        "B answers the question; A does not."
    )
    page.get_by_test_id("back-to-labeling").click()
    expect(page.get_by_test_id("task-panel")).to_be_visible()
    assert console_errors == []


def test_the_review_queue_is_filtered_and_sorted_and_the_filters_stay_on_while_reviewing(
    page: Page, live_server, console_errors
):
    project, people, reviewer, _ = make_quality_project(
        contributors=2,
        quality={"review_policy": "share", "review_share": 1.0, "agreement_threshold": 0.5},
    )
    c0, c1 = people
    t1, t2 = make_ranking_tasks(project, 2)
    (t3,) = make_ranking_tasks(project, 1, overlap=2)
    answer(project, c0, "a")  # t1: sampled
    answer(project, c1, "a")  # t2: sampled
    answer(project, c0, "a")  # t3, with …
    answer(project, c1, "b")  # … a disagreement: low agreement
    assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.IN_REVIEW}
    log_in(page, live_server, reviewer)
    queue_url = live_server.url + reverse("quality:review-queue", args=[project.pk])
    page.goto(queue_url)

    def rows() -> list[int]:
        return [int(r.get_attribute("data-task")) for r in page.get_by_test_id("review-row").all()]

    assert rows() == [t3.pk, t1.pk, t2.pk]  # low agreement before the sample, oldest first
    filters = page.get_by_test_id("review-filters")
    filters.get_by_test_id("filter-reason").select_option("sampled")
    filters.get_by_test_id("filter-contributor").select_option(c1.username)
    filters.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("review-count")).to_have_text("1 task matches.")
    assert rows() == [t2.pk]

    page.goto(queue_url + "?sort=newest")
    assert rows() == [t3.pk, t2.pk, t1.pk]
    page.get_by_test_id("review-filters").get_by_test_id("sort").select_option("agreement")
    page.get_by_role("button", name="Show").click()
    assert rows()[0] == t3.pk  # the only task with an agreement (0), then those without

    # Review only C0's tasks: each verdict leads to the next that matches, then says so.
    page.goto(f"{queue_url}?contributor={c0.username}")
    page.get_by_test_id("start-review").click()
    page.wait_for_url(f"**/reviews/{t3.pk}/?contributor={c0.username}")
    wait_for_editor(page)
    page.keyboard.press("Alt+a")
    page.wait_for_url(f"**/reviews/{t1.pk}/?contributor={c0.username}")
    wait_for_editor(page)
    page.keyboard.press("Alt+a")
    page.wait_for_url(f"**/reviews/?contributor={c0.username}")
    expect(messages_saying(page, "Nothing that matches the filters")).to_have_count(1)
    expect(page.get_by_test_id("review-empty")).to_contain_text("Nothing that matches")
    assert Task.objects.get(pk=t2.pk).status == TaskStatus.IN_REVIEW  # C1's, not touched
    assert console_errors == []


def test_review_words_and_a_readable_word_diff_for_conversations(page: Page, live_server):
    """Two answers that score alike but rewrite differently: the screen does not call them in
    disagreement at agreement 1.00, and each rewrite's diff keeps removed and added words apart."""
    rubric = [{"name": "accuracy", "scale": 5, "per": "turn", "labels": []}]
    schema = {"modes": ["rate", "rewrite"], "criteria": rubric, "error_types": []}
    project, people, reviewer, _manager = make_quality_project(
        contributors=2, quality={"review_policy": "share", "review_share": 1.0}
    )
    project.kind, project.schema = "conversation", schema
    project.save()
    messages = [
        {"role": "user", "content": "Capital of Australia?"},
        {"role": "assistant", "content": "It is Sydney, of course."},
    ]
    task = Task.objects.create(project=project, data={"messages": messages}, overlap=2)
    for person, rewrite in (
        (people[0], "It is Canberra."),
        (people[1], "It is Canberra, of course."),
    ):
        assignment = queue.assignment_claim_next(project=project, contributor=person)
        queue.annotation_submit(
            assignment_id=assignment.pk,
            contributor=person,
            result={
                "turns": [{"index": 1, "scores": {"accuracy": 2}, "spans": [], "rewrite": rewrite}]
            },
            active_seconds=20,
        )
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.agreement == 1.0

    log_in(page, live_server, reviewer)
    page.goto(live_server.url + reverse("quality:review", args=[project.pk, task.pk]))
    wait_for_editor(page)
    note = page.get_by_test_id("disagreement")
    expect(note).to_contain_text("The 2 answers differ")
    expect(note).not_to_contain_text("disagree")
    expect(page.get_by_test_id("editor-starts")).to_have_text(
        "The editor starts from the consensus."
    )
    diff = page.get_by_test_id("review-answers").get_by_test_id("rewrite-diff").first
    # "Sydney, of course." removed and "Canberra." added: apart, each with its own mark.
    expect(diff.get_by_test_id("diff-del")).to_have_text("removed: Sydney, of course.")
    expect(diff.get_by_test_id("diff-ins")).to_have_text("added: Canberra.")
    expect(diff).to_have_text("It is removed: Sydney, of course. added: Canberra.")
    deleted = diff.get_by_test_id("diff-del").bounding_box()
    added = diff.get_by_test_id("diff-ins").bounding_box()
    assert added["x"] >= deleted["x"] + deleted["width"] + 2  # a visible gap between them
