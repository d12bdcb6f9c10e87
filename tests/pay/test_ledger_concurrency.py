"""The ledger under several contributors and reviewers at once, on PostgreSQL: every answer is
paid exactly once at the rate its final state earns, whatever interleaving the threads took."""

import random
import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from annotation import queue
from annotation.models import Annotation, Task, TaskStatus
from pay.models import Earning, EarningPart
from quality.judging import judging_run
from quality.models import AnnotationReview, AnswerJudgement, TaskOutcome
from quality.services import ReviewRefusal, review_record
from tests.pay.helpers import paid_project
from tests.quality.helpers import make_ranking_tasks

ACCEPTED, REJECTED, BONUS = Decimal("0.50"), Decimal("0.10"), Decimal("0")


def _in_thread(target, errors: list, *args) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def contribute(project, user, deadline: float) -> None:
    while time.monotonic() < deadline:
        lease = queue.assignment_claim_next(project=project, contributor=user)
        if lease is None:
            if not Task.objects.filter(project=project, status=TaskStatus.OPEN).exists():
                return
            time.sleep(0.01)
            continue
        queue.annotation_submit(
            assignment_id=lease.pk,
            contributor=user,
            result={"preference": random.choice("ab"), "strength": 1},
            active_seconds=random.randint(5, 90),
        )


def review(project, reviewer, deadline: float, seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline and not stop.is_set():
        waiting = list(
            TaskOutcome.objects.filter(
                project=project, task__status=TaskStatus.IN_REVIEW
            ).values_list("task_id", "version")[:20]
        )
        if not waiting:
            time.sleep(0.01)
            continue
        task_id, version = rng.choice(waiting)
        verdict = "reject" if rng.random() < 0.4 else "accept"
        try:
            review_record(
                task_id=task_id,
                project=project,
                reviewer=reviewer,
                verdict=verdict,
                version=version,
                comment="Not this one." if verdict == "reject" else "",
            )
        except ReviewRefusal:
            continue  # another reviewer got there first


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_and_reviews_pay_each_answer_exactly_what_it_earns():
    project, people, reviewer, manager = paid_project(
        contributors=4, quality={"review_policy": "share", "review_share": 1.0}
    )
    make_ranking_tasks(project, 60)
    errors: list[str] = []
    stop = threading.Event()
    deadline = time.monotonic() + 60
    workers = [_in_thread(contribute, errors, project, user, deadline) for user in people]
    reviewers = [
        _in_thread(review, errors, project, who, deadline, seed, stop)
        for seed, who in enumerate((reviewer, manager))
    ]
    for thread in workers:
        thread.join()
    judging_run(project_id=project.pk)  # anything a thread's run left waiting
    stop.set()
    for thread in reviewers:
        thread.join()
    judging_run(project_id=project.pk)
    assert errors == []

    rejected = set(
        AnnotationReview.objects.filter(judgement=AnswerJudgement.REJECTED).values_list(
            "annotation_id", flat=True
        )
    )
    assert rejected, "the reviewers rejected nothing: the test proves little"
    answers = list(Annotation.objects.filter(task__project=project))
    assert len(answers) > 60
    owed: dict[int, Decimal] = defaultdict(Decimal)
    for a in answers:
        owed[a.contributor_id] += REJECTED if a.pk in rejected else ACCEPTED
    paid = dict(
        Earning.objects.filter(project=project)
        .values("person_id")
        .annotate(total=Sum("amount"))
        .values_list("person_id", "total")
    )
    assert paid == dict(owed)
    # Per answer, too: nothing paid twice, nothing missed.
    per_answer = dict(
        Earning.objects.filter(part=EarningPart.BASE)
        .values("annotation_id")
        .annotate(total=Sum("amount"))
        .values_list("annotation_id", "total")
    )
    assert per_answer == {a.pk: REJECTED if a.pk in rejected else ACCEPTED for a in answers}
    assert sum(Earning.objects.values_list("active_seconds", flat=True)) == sum(
        a.active_seconds for a in answers
    )
