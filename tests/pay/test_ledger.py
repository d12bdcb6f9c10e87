"""The earnings ledger: written with the events that earn, summing to what the rates say."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from annotation.models import Task
from backends.models import ModelBackend, ModelVersion
from pay.ledger import annotations_settle
from pay.models import Earning, EarningEvent, EarningPart, PayBasis
from quality.models import AnnotationReview, AnswerJudgement
from quality.services import review_record
from tests.factories import make_user
from tests.pay.helpers import ALWAYS_REVIEW, answer, paid_project
from tests.quality.helpers import make_ranking_tasks

pytestmark = pytest.mark.django_db


def earned(user, project=None) -> Decimal:
    entries = Earning.objects.filter(person=user)
    if project is not None:
        entries = entries.filter(project=project)
    return entries.aggregate(total=Sum("amount", default=Decimal(0)))["total"]


def review(task, reviewer, verdict, comment="", **extra):
    task.refresh_from_db()
    return review_record(
        task_id=task.pk,
        project=task.project,
        reviewer=reviewer,
        verdict=verdict,
        version=task.outcome.version,
        comment=comment,
        **extra,
    )


def test_ledger_sums_to_the_rates_times_the_verdicts(django_capture_on_commit_callbacks):
    """Accepted answers earn the accepted rate, rejected ones the rejected rate, and people
    credibly above the bonus level get the bonus on each answer that stands."""
    capture = django_capture_on_commit_callbacks
    quality = {
        **ALWAYS_REVIEW,
        "qualification_tasks": 6,
        "qualification_min_score": 0.0,
        "accuracy_floor": 0.0,
        "gold_rate": 0.0,
    }
    project, people, reviewer, _ = paid_project(bonus="0.05", bonus_accuracy=0.5, quality=quality)
    good, fair, poor = people
    # Qualification first: `good` scores 1 on six gold tasks (lower bound above 0.5), others 0.
    gold = make_ranking_tasks(project, 6, is_gold=True, gold={"preference": "a", "strength": 1})
    for user, preference in ((good, "a"), (fair, "b"), (poor, "b")):
        for _ in gold:
            answer(capture, project=project, user=user, preference=preference)
    tasks = make_ranking_tasks(project, 12)
    verdicts = {good: ["accept"] * 3 + ["reject"], fair: ["accept", "fix", "reject", "reject"]}
    verdicts[poor] = ["reject"] * 4
    for user, wanted in verdicts.items():
        for verdict in wanted:
            a = answer(capture, project=project, user=user)
            task = Task.objects.get(pk=a.task_id)
            extra = {"result": {"preference": "a", "strength": 2}} if verdict == "fix" else {}
            with capture(execute=True):
                review(
                    task,
                    reviewer,
                    verdict,
                    comment="Reason." if verdict == "reject" else "",
                    **extra,
                )
    assert Task.objects.filter(pk__in=[t.pk for t in tasks], answer_count=0).count() >= 7

    rate, rejected_rate, bonus = Decimal("0.50"), Decimal("0.10"), Decimal("0.05")
    granted = Earning.objects.filter(person=good, part=EarningPart.BONUS, event=EarningEvent.JUDGED)
    real = set(Task.objects.filter(is_gold=False).values_list("pk", flat=True))
    # The bonus follows the record at the time: not on the first gold answer (one success is
    # no proof), on every real answer after six good ones.
    assert {e.annotation.task_id for e in granted} >= {
        a.task_id for a in good.annotations.all() if a.task_id in real
    }
    assert granted.count() < 10
    # good: 6 gold + 3 accepted stand, 1 rejected (its bonus taken back).
    assert earned(good) == 9 * rate + 1 * rejected_rate + (granted.count() - 1) * bonus
    # fair: 6 gold + 2 stand (accept, fix), 2 rejected; never eligible for the bonus.
    assert earned(fair) == 8 * rate + 2 * rejected_rate
    assert earned(poor) == 6 * rate + 4 * rejected_rate
    # The rejection of a bonus-earning answer took the bonus back too, as a new entry.
    takebacks = Earning.objects.filter(person=good, event=EarningEvent.REJECTED)
    assert sorted(takebacks.values_list("part", "amount")) == [
        (EarningPart.BASE, rejected_rate - rate),
        (EarningPart.BONUS, -bonus),
    ]


def test_a_rejection_reversed_restores_the_pay_as_a_new_entry(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, reviewer, _ = paid_project(contributors=1)
    make_ranking_tasks(project, 1)
    a = answer(capture, project=project, user=people[0])
    with capture(execute=True):
        review(Task.objects.get(pk=a.task_id), reviewer, "reject", comment="Wrong.")
    assert earned(people[0]) == Decimal("0.10")
    before = list(Earning.objects.order_by("pk").values_list("pk", "amount"))
    AnnotationReview.objects.filter(annotation=a).update(judgement=AnswerJudgement.ACCEPTED)
    assert annotations_settle(annotation_ids=[a.pk], event=EarningEvent.APPEAL_REVERSED) == 1
    assert earned(people[0]) == Decimal("0.50")
    # Nothing before was edited; settling again writes nothing.
    assert list(Earning.objects.order_by("pk").values_list("pk", "amount"))[:2] == before
    assert annotations_settle(annotation_ids=[a.pk], event=EarningEvent.APPEAL_REVERSED) == 0


def test_a_rate_change_leaves_answers_paid_at_their_own_rates(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, reviewer, _ = paid_project(contributors=1)
    make_ranking_tasks(project, 1)
    a = answer(capture, project=project, user=people[0])
    project.pay.accepted_rate, project.pay.rejected_rate = Decimal("2"), Decimal("1")
    project.pay.save()
    with capture(execute=True):
        review(Task.objects.get(pk=a.task_id), reviewer, "reject", comment="Wrong.")
    assert earned(people[0]) == Decimal("0.10")


def test_a_corrected_answer_is_paid_again_and_its_time_counted(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, reviewer, _ = paid_project(
        contributors=1,
        quality={"review_policy": "share", "review_share": 1.0, "rejected_to": "author"},
    )
    make_ranking_tasks(project, 1)
    a = answer(capture, project=project, user=people[0], seconds=40)
    with capture(execute=True):
        review(Task.objects.get(pk=a.task_id), reviewer, "reject", comment="Look again.")
    assert earned(people[0]) == Decimal("0.10")
    answer(capture, project=project, user=people[0], preference="b", seconds=25)
    assert earned(people[0]) == Decimal("0.50")
    revised = Earning.objects.get(event=EarningEvent.REVISED)
    assert revised.amount == Decimal("0.40")
    assert revised.active_seconds == 25
    assert Earning.objects.aggregate(s=Sum("active_seconds"))["s"] == 65


def test_per_hour_pays_active_time_capped_by_the_lease(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, _ = paid_project(
        contributors=1, basis=PayBasis.HOUR, hourly="18.00", quality={"review_share": 0.0}
    )
    make_ranking_tasks(project, 3)
    user = people[0]
    answer(capture, project=project, user=user, seconds=600, leased_for=900)  # 10 of 15 min
    answer(capture, project=project, user=user, seconds=3600, leased_for=120)  # claims an hour
    a = answer(capture, project=project, user=user, seconds=300, leased_for=400)
    # 18/h × (600 s + 120 s of lease, not the 3600 claimed + 300 s); the lease is rounded up to
    # the second, so at most one second's pay over.
    expected = Decimal("3.00") + Decimal("0.60") + Decimal("1.50")
    assert expected <= earned(user) <= expected + Decimal("0.005")
    entries = Earning.objects.filter(person=user).order_by("pk")
    assert [e.active_seconds for e in entries] == [600, 3600, 300]
    assert all(
        lease >= want
        for lease, want in zip((e.lease_seconds for e in entries), (900, 120, 400), strict=True)
    )
    # Time is time: a rejection does not take hourly pay back.
    assert annotations_settle(annotation_ids=[a.pk], event=EarningEvent.REJECTED) == 0


def test_gold_and_qualification_answers_are_paid_like_any_other(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, _ = paid_project(
        contributors=1, quality={"qualification_tasks": 2, "qualification_min_score": 0.0}
    )
    make_ranking_tasks(project, 2, is_gold=True, gold={"preference": "b", "strength": 1})
    make_ranking_tasks(project, 1)
    for _ in range(3):
        answer(capture, project=project, user=people[0], preference="a")
    entries = Earning.objects.filter(person=people[0])
    assert entries.count() == 3
    # Every entry reads the same, gold or not: same event, amount and terms.
    assert {(e.event, e.amount, str(e.terms)) for e in entries} == {
        (EarningEvent.JUDGED, Decimal("0.5000"), str(entries[0].terms))
    }


def test_no_rates_no_entries_and_models_are_never_paid(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, _manager = paid_project(contributors=1, quality={"review_share": 0})
    model_user = make_user()
    backend = ModelBackend.objects.create(project=project, name="m", url="https://example.com")
    ModelVersion.objects.create(backend=backend, version="v1", user=model_user)
    from labelhub.models import ProjectMember, Role

    ProjectMember.objects.create(project=project, user=model_user, role=Role.CONTRIBUTOR)
    make_ranking_tasks(project, 2)
    answer(capture, project=project, user=model_user)
    answer(capture, project=project, user=people[0])
    assert list(Earning.objects.values_list("person", flat=True)) == [people[0].pk]

    unpaid, others, _r, _m = paid_project(contributors=1)
    unpaid.pay.delete()
    make_ranking_tasks(unpaid, 1)
    answer(capture, project=unpaid, user=others[0])
    assert not Earning.objects.filter(project=unpaid).exists()


def test_the_ledger_refuses_edits(django_capture_on_commit_callbacks):
    project, people, _reviewer, _ = paid_project(contributors=1, quality={"review_share": 0})
    make_ranking_tasks(project, 1)
    answer(django_capture_on_commit_callbacks, project=project, user=people[0])
    entry = Earning.objects.get()
    entry.amount = Decimal("100")
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_the_database_refuses_to_change_an_entry_but_lets_its_project_go(
    django_capture_on_commit_callbacks,
):
    from django.db import DatabaseError, transaction

    project, people, _reviewer, _ = paid_project(contributors=1, quality={"review_share": 0})
    make_ranking_tasks(project, 1)
    answer(django_capture_on_commit_callbacks, project=project, user=people[0])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Earning.objects.update(amount=Decimal("100"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Earning.objects.update(person=make_user())
    project.delete()  # the entry stays, with the project's name
    entry = Earning.objects.get()
    assert (entry.project_id, entry.annotation_id, entry.amount) == (None, None, Decimal("0.5"))
    assert entry.project_name


@pytest.mark.parametrize("reason", ["distressing", "broken_media", ""])
def test_a_skip_costs_no_pay_and_the_next_answer_is_paid_in_full(
    reason, django_capture_on_commit_callbacks
):
    """Skipping (distressing content above all) writes nothing to the ledger and takes nothing
    back: the person's earnings are exactly those of the answers they gave."""
    from annotation import queue

    capture = django_capture_on_commit_callbacks
    project, people, _reviewer, _ = paid_project(contributors=1, quality={"review_share": 0})
    make_ranking_tasks(project, 3)
    user = people[0]
    answer(capture, project=project, user=user)
    with capture(execute=True):
        lease = queue.assignment_claim_next(project=project, contributor=user)
        queue.assignment_skip(assignment_id=lease.pk, contributor=user, reason=reason)
    assert earned(user) == Decimal("0.50")
    answer(capture, project=project, user=user)
    assert earned(user) == Decimal("1.00")
    assert Earning.objects.filter(person=user).count() == 2
