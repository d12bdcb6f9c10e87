"""Issue 6's end-to-end scenario: planted accuracies in, the right quality decisions out.

Four contributors transcribe a project with gold: two careful ones (every answer right), a sloppy
one (a word wrong in every third answer) and a spammer (junk). With overlap 3, an accuracy floor
and an agreement threshold, the spammer must be paused automatically, the consensus of every
accepted task must be the planted truth, the review queue must hold exactly the tasks the answers
disagree on, and a reviewer's fix made in a real browser must become the accepted result.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import ContributorStatus, ProjectContributor, Task, TaskStatus
from annotation.services import task_create_with_media
from labelhub.models import Role
from tests.e2e.conftest import wait_js
from tests.factories import make_project, make_user
from tests.media import wav_bytes

pytestmark = pytest.mark.django_db(transaction=True)

NORMAL_TASKS, GOLD_TASKS = 18, 10
QUALITY = {
    "overlap": 3,
    "gold_rate": 0.6,
    "accuracy_floor": 0.6,
    "agreement_threshold": 0.7,
    "review_policy": "share",
    "review_share": 0.0,  # the review queue is fed by disagreement alone here
}
SCHEMA = {"media": "audio", "normalisation": ["lowercase", "strip_punctuation"], "segments": False}


def truth(n: int) -> str:
    return f"the quick brown fox number {n} jumps over the lazy dog"


def answer_of(style: str, text: str, turn: int) -> str:
    if style == "careful":
        return text
    if style == "sloppy":
        return text.replace("quick", "quik") if turn % 3 == 0 else text
    return "lorem ipsum"


def work_until_done(project, people: dict, *, rounds: int | None = None) -> None:
    """Each contributor in turn claims and answers, until nobody gets any more work (or for
    ``rounds`` rounds)."""
    active = dict(people)
    turns = dict.fromkeys(people, 0)
    while active and rounds != 0:
        rounds = None if rounds is None else rounds - 1
        for user, style in list(active.items()):
            try:
                assignment = queue.assignment_claim_next(project=project, contributor=user)
            except queue.QueueRefusal:
                assignment = None
            if assignment is None:
                del active[user]
                continue
            turns[user] += 1
            text = answer_of(style, assignment.task.data["planted"], turns[user])
            queue.annotation_submit(
                assignment_id=assignment.pk,
                contributor=user,
                result={"text": text},
                active_seconds=20,
            )


def test_planted_accuracies_lead_to_pause_consensus_review_and_a_browser_fix(
    page: Page, live_server, console_errors
):
    ana, ben, cleo, sam = (make_user(name) for name in ("ana", "ben", "cleo", "sam"))
    rui = make_user("rui")
    project = make_project(
        kind="transcription",
        schema=SCHEMA,
        quality=QUALITY,
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, cleo: Role.CONTRIBUTOR,
                 sam: Role.CONTRIBUTOR, rui: Role.REVIEWER},
    )  # fmt: skip
    for n in range(NORMAL_TASKS + GOLD_TASKS):
        task_create_with_media(
            project=project,
            media_field="audio",
            file=wav_bytes(1.0),
            filename=f"clip-{n}.wav",
            data={"planted": truth(n)},
            gold={"text": truth(n)} if n >= NORMAL_TASKS else None,
        )

    people = {ana: "careful", ben: "careful", cleo: "sloppy", sam: "spammer"}
    # Two rounds before the manager mixes gold in (so the spammer surely spams some real tasks;
    # otherwise three gold tasks in a row could pause her first), then work until done.
    project.quality = {**QUALITY, "gold_rate": 0.0}
    project.save(update_fields=["quality"])
    work_until_done(project, people, rounds=2)
    project.quality = QUALITY
    project.save(update_fields=["quality"])
    work_until_done(project, people)

    # The spammer is paused automatically, with the reason in words; the others are not.
    standing = {pc.user: pc for pc in ProjectContributor.objects.filter(project=project)}
    assert standing[sam].status == ContributorStatus.PAUSED
    assert standing[sam].pause_reason.startswith("Paused automatically")
    for user in (ana, ben, cleo):
        assert standing[user].status == ContributorStatus.ACTIVE

    tasks = list(
        Task.objects.filter(project=project, is_gold=False)
        .select_related("outcome")
        .prefetch_related("annotations")
    )
    assert {task.status for task in tasks} <= {TaskStatus.ACCEPTED, TaskStatus.IN_REVIEW}
    for task in tasks:
        spammed = any(a.contributor_id == sam.pk for a in task.annotations.all())
        if spammed:  # the junk answer disagrees with the others: review, never accepted
            assert task.status == TaskStatus.IN_REVIEW, task.pk
            assert task.outcome.agreement < QUALITY["agreement_threshold"]
        else:  # careful, careful, sloppy: the consensus is the planted truth
            assert task.status == TaskStatus.ACCEPTED, task.pk
            assert task.outcome.accepted_result["text"] == task.data["planted"]
    in_review = [task for task in tasks if task.status == TaskStatus.IN_REVIEW]
    assert in_review, "the spammer answered before being paused, so some tasks need review"

    # A reviewer fixes one of them in the real review screen; the fix becomes the accepted result.
    client = Client()
    client.force_login(rui)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(live_server.url + reverse("quality:review-next", args=[project.pk]))
    page.wait_for_selector("[data-editor-root][data-mounted=true]", state="attached")
    wait_js(page, "document.body.dataset.reviewMode === 'review'")
    reviewed_id = int(page.url.rstrip("/").split("/")[-1])
    page.keyboard.press("Alt+f")  # fix in the contributors' editor
    expect(page.get_by_test_id("save-fix")).to_be_visible()
    box = page.locator("[data-editor-root] textarea").first
    box.fill("the quick brown fox was fixed by the reviewer")
    page.keyboard.press("Alt+Enter")
    page.wait_for_url(lambda url: not url.rstrip("/").endswith(f"/reviews/{reviewed_id}"))
    fixed = Task.objects.select_related("outcome").get(pk=reviewed_id)
    assert fixed.status == TaskStatus.ACCEPTED
    assert fixed.outcome.accepted_result["text"] == "the quick brown fox was fixed by the reviewer"
    assert console_errors == []
