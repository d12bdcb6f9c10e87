"""The queue's services: claim, lease expiry, skip, drafts, submit, gold and qualification."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation import queue
from annotation import queue_sql as sql
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ContributorStatus,
    ProjectContributor,
    Task,
    TaskStatus,
)
from tests.annotation.helpers import make_gold, make_queue_project, make_tasks

pytestmark = pytest.mark.django_db


def claim(project, user):
    return queue.assignment_claim_next(project=project, contributor=user)


def submit(assignment, label="cat", **kw):
    return queue.annotation_submit(
        assignment_id=assignment.pk,
        contributor=assignment.contributor,
        result={"label": label},
        **kw,
    )


def expire(assignment):
    Assignment.objects.filter(pk=assignment.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_next_task_goes_by_priority_then_id():
    project, (ana, ben, cy) = make_queue_project(contributors=3)
    low, _other_low = make_tasks(project, 2)
    (high,) = make_tasks(project, 1, priority=5)
    assert claim(project, ana).task == high
    assert claim(project, ben).task == low
    assert claim(project, cy).task == _other_low


def test_reload_returns_the_same_live_lease():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 3)
    first = claim(project, ana)
    assert claim(project, ana) == first
    assert Assignment.objects.count() == 1
    assert Task.objects.get(pk=first.task_id).lease_count == 1


def test_task_goes_to_at_most_overlap_contributors():
    project, people = make_queue_project(contributors=4)
    (task,) = make_tasks(project, 1, overlap=3)
    got = [claim(project, person) for person in people]
    assert [a.task_id if a else None for a in got] == [task.pk, task.pk, task.pk, None]
    task.refresh_from_db()
    assert (task.lease_count, task.answer_count) == (3, 0)


def test_database_refuses_more_leases_than_overlap():
    project, _ = make_queue_project(contributors=1)
    (task,) = make_tasks(project, 1, overlap=2)
    with pytest.raises(IntegrityError):
        Task.objects.filter(pk=task.pk).update(lease_count=3)


def test_contributor_never_gets_a_task_twice():
    project, (ana, ben) = make_queue_project()
    first, _second = make_tasks(project, 2, overlap=2)
    submit(claim(project, ana))
    queue.assignment_skip(assignment_id=claim(project, ana).pk, contributor=ana)
    assert claim(project, ana) is None
    assert claim(project, ben).task == first


def test_expired_lease_returns_task_to_queue():
    project, (ana, ben) = make_queue_project()
    (task,) = make_tasks(project, 1)
    lease = claim(project, ana)
    assert claim(project, ben) is None
    expire(lease)
    again = claim(project, ben)
    assert again.task == task
    lease.refresh_from_db()
    assert lease.status == AssignmentStatus.EXPIRED
    task.refresh_from_db()
    assert task.lease_count == 1


def test_lease_lasts_the_projects_lease_minutes():
    project, (ana,) = make_queue_project(contributors=1, quality={"lease_minutes": 5})
    make_tasks(project, 1)
    before = timezone.now()
    lease = claim(project, ana)
    assert before + timedelta(minutes=5) <= lease.lease_expires_at
    assert lease.lease_expires_at <= timezone.now() + timedelta(minutes=5)


def test_skip_gives_the_task_back_to_others_with_the_reason():
    project, (ana, ben) = make_queue_project()
    (task,) = make_tasks(project, 1)
    lease = claim(project, ana)
    skipped = queue.assignment_skip(assignment_id=lease.pk, contributor=ana, reason="blurry")
    assert (skipped.status, skipped.skip_reason) == (AssignmentStatus.SKIPPED, "blurry")
    assert claim(project, ben).task == task
    assert ProjectContributor.objects.get(user=ana).status == ContributorStatus.ACTIVE


def test_skip_twice_counts_once():
    project, (ana, _ben) = make_queue_project()
    (task,) = make_tasks(project, 1, overlap=2)
    lease = claim(project, ana)
    for _ in range(2):
        queue.assignment_skip(assignment_id=lease.pk, contributor=ana)
    task.refresh_from_db()
    assert task.lease_count == 0


def test_submit_stores_the_answer_and_moves_the_counters():
    project, (ana, ben) = make_queue_project()
    (task,) = make_tasks(project, 1, overlap=2)
    submission = submit(claim(project, ana), "dog", active_seconds=42)
    assert submission.created
    assert (submission.annotation.result, submission.annotation.active_seconds) == (
        {"label": "dog"},
        42,
    )
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count, task.status) == (1, 0, TaskStatus.OPEN)
    submit(claim(project, ben))
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count, task.status) == (2, 0, TaskStatus.ANNOTATED)


def test_submit_twice_stores_one_annotation_with_the_first_answer():
    project, (ana,) = make_queue_project(contributors=1)
    (task,) = make_tasks(project, 1, overlap=2)
    lease = claim(project, ana)
    first = submit(lease, "cat")
    again = submit(lease, "dog")
    assert not again.created
    assert again.annotation.pk == first.annotation.pk
    assert Annotation.objects.get().result == {"label": "cat"}
    task.refresh_from_db()
    assert task.answer_count == 1


def test_submit_is_validated_by_the_task_kind():
    from django.core.exceptions import ValidationError

    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    lease = claim(project, ana)
    with pytest.raises(ValidationError) as caught:
        submit(lease, "horse")
    assert "label" in caught.value.message_dict
    assert not Annotation.objects.exists()


def test_late_submit_is_kept_while_the_task_still_needs_answers():
    project, (ana,) = make_queue_project(contributors=1)
    (task,) = make_tasks(project, 1, overlap=2)
    lease = claim(project, ana)
    expire(lease)
    assert claim(project, ana) is None  # reclaims the lease (and ana cannot have the task again)
    assert submit(lease).created
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count) == (1, 0)


def test_late_submit_is_refused_when_others_filled_the_task_and_the_draft_is_kept():
    project, (ana, ben) = make_queue_project()
    (task,) = make_tasks(project, 1)
    lease = claim(project, ana)
    expire(lease)
    submit(claim(project, ben))
    with pytest.raises(queue.LeaseLost):
        submit(lease, "dog")
    lease.refresh_from_db()
    assert lease.draft == {"label": "dog"}
    assert not Annotation.objects.filter(assignment=lease).exists()
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count, task.status) == (1, 0, TaskStatus.ANNOTATED)


def test_submit_after_expiry_without_reclaim_keeps_its_slot():
    project, (ana,) = make_queue_project(contributors=1)
    (task,) = make_tasks(project, 1)
    lease = claim(project, ana)
    expire(lease)
    assert submit(lease).created
    task.refresh_from_db()
    assert (task.answer_count, task.lease_count, task.status) == (1, 0, TaskStatus.ANNOTATED)


def test_skipped_assignment_cannot_be_submitted():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    lease = claim(project, ana)
    queue.assignment_skip(assignment_id=lease.pk, contributor=ana)
    with pytest.raises(queue.AssignmentClosed):
        submit(lease)


def test_draft_comes_back_on_reload_and_renews_the_lease():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    lease = claim(project, ana)
    Assignment.objects.filter(pk=lease.pk).update(
        lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    saved = queue.assignment_save_draft(
        assignment_id=lease.pk, contributor=ana, result={"label": "d"}, version=lease.version
    )
    assert saved.version == lease.version + 1
    assert saved.lease_expires_at > timezone.now() + timedelta(minutes=29)
    again = claim(project, ana)
    assert again.pk == lease.pk
    assert again.draft == {"label": "d"}


def test_draft_with_a_stale_version_is_a_conflict():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    lease = claim(project, ana)
    queue.assignment_save_draft(assignment_id=lease.pk, contributor=ana, result={"a": 1}, version=1)
    with pytest.raises(queue.DraftConflict) as caught:
        queue.assignment_save_draft(
            assignment_id=lease.pk, contributor=ana, result={"a": 2}, version=1
        )
    assert caught.value.current_version == 2
    lease.refresh_from_db()
    assert lease.draft == {"a": 1}


def test_only_the_owner_touches_an_assignment():
    project, (ana, ben) = make_queue_project()
    make_tasks(project, 1)
    lease = claim(project, ana)
    for action in (
        lambda: queue.assignment_skip(assignment_id=lease.pk, contributor=ben),
        lambda: queue.annotation_submit(
            assignment_id=lease.pk, contributor=ben, result={"label": "cat"}
        ),
        lambda: queue.assignment_save_draft(assignment_id=lease.pk, contributor=ben, result={}),
    ):
        with pytest.raises(Assignment.DoesNotExist):
            action()


def test_paused_contributor_is_told_why():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    ProjectContributor.objects.create(
        project=project, user=ana, status=ContributorStatus.PAUSED, pause_reason="gold accuracy"
    )
    with pytest.raises(queue.ContributorPaused, match="gold accuracy"):
        claim(project, ana)
    assert not Assignment.objects.exists()


# Gold and qualification


def test_qualification_serves_gold_first_then_admits_on_a_good_score():
    quality = {"qualification_tasks": 2, "qualification_min_score": 0.5}
    project, (ana,) = make_queue_project(contributors=1, quality=quality)
    (real,) = make_tasks(project, 1, priority=10)
    gold = make_gold(project, 3)
    first = claim(project, ana)
    assert first.task == gold[0]
    assert ProjectContributor.objects.get(user=ana).status == ContributorStatus.QUALIFYING
    submit(first, "cat")
    second = claim(project, ana)
    assert second.task == gold[1]
    submit(second, "dog")  # one of two right: 0.5 meets the bar
    pc = ProjectContributor.objects.get(user=ana)
    assert (pc.status, pc.gold_answered_count, pc.gold_score_sum) == (
        ContributorStatus.ACTIVE,
        2,
        1.0,
    )
    assert claim(project, ana).task == real


def test_qualification_below_the_bar_disqualifies_with_a_message():
    quality = {"qualification_tasks": 2, "qualification_min_score": 0.8}
    project, (ana,) = make_queue_project(contributors=1, quality=quality)
    make_tasks(project, 1)
    make_gold(project, 2)
    submit(claim(project, ana), "cat")
    submit(claim(project, ana), "dog")
    assert ProjectContributor.objects.get(user=ana).status == ContributorStatus.DISQUALIFIED
    with pytest.raises(queue.ContributorDisqualified, match="50%"):
        claim(project, ana)


def test_qualification_decides_on_what_was_answered_when_gold_runs_out():
    quality = {"qualification_tasks": 5, "qualification_min_score": 0.8}
    project, (ana,) = make_queue_project(contributors=1, quality=quality)
    (real,) = make_tasks(project, 1)
    make_gold(project, 2)
    submit(claim(project, ana))
    queue.assignment_skip(assignment_id=claim(project, ana).pk, contributor=ana)
    assert claim(project, ana).task == real
    assert ProjectContributor.objects.get(user=ana).status == ContributorStatus.ACTIVE


def test_qualification_without_any_gold_is_waived():
    project, (ana,) = make_queue_project(contributors=1, quality={"qualification_tasks": 3})
    (real,) = make_tasks(project, 1)
    assert claim(project, ana).task == real


def test_qualifying_contributor_who_skipped_all_gold_waits_with_a_message():
    project, (ana,) = make_queue_project(contributors=1, quality={"qualification_tasks": 3})
    make_tasks(project, 1)
    (_gold,) = make_gold(project, 1)
    queue.assignment_skip(assignment_id=claim(project, ana).pk, contributor=ana)
    with pytest.raises(queue.QualificationUnavailable):
        claim(project, ana)


def test_gold_is_mixed_in_at_the_gold_rate():
    project, people = make_queue_project(contributors=2, quality={"gold_rate": 1.0})
    make_tasks(project, 2, priority=10)
    gold = make_gold(project, 1)
    # Every contributor answers each gold task once; gold is never used up.
    for person in people:
        lease = claim(project, person)
        assert lease.task == gold[0]
        submit(lease)
        assert not claim(project, person).task.is_gold  # their gold is used up: real work
    gold[0].refresh_from_db()
    assert (gold[0].status, gold[0].lease_count, gold[0].answer_count) == (TaskStatus.OPEN, 0, 2)


def test_no_gold_at_a_zero_gold_rate():
    project, (ana,) = make_queue_project(contributors=1, quality={"gold_rate": 0.0})
    make_tasks(project, 5)
    make_gold(project, 5)
    for _ in range(5):
        lease = claim(project, ana)
        assert not lease.task.is_gold
        submit(lease)
    assert claim(project, ana) is None


def test_gold_rate_is_roughly_kept():
    project, (ana,) = make_queue_project(contributors=1, quality={"gold_rate": 0.3})
    make_tasks(project, 200)
    make_gold(project, 200)
    served = []
    for _ in range(200):
        lease = claim(project, ana)
        served.append(lease.task.is_gold)
        queue.assignment_skip(assignment_id=lease.pk, contributor=ana)
    # 200 draws at p = 0.3: mean 60, sd 6.5; the bounds are > 4 sd away.
    assert 30 <= sum(served) <= 90


def test_gold_score_is_recorded_on_the_annotation():
    project, (ana,) = make_queue_project(contributors=1, quality={"gold_rate": 1.0})
    make_gold(project, 1, label="dog")
    submission = submit(claim(project, ana), "cat")
    assert submission.annotation.gold_score == 0.0
    pc = ProjectContributor.objects.get(user=ana)
    assert (pc.gold_answered_count, pc.gold_mean_score) == (1, 0.0)


# The hot path stays a handful of queries.


def statements(captured) -> list[str]:
    """The queries that reach the table data (savepoints and PostgreSQL's SET LOCAL left out)."""
    return [
        q["sql"]
        for q in captured
        if "SAVEPOINT" not in q["sql"] and not q["sql"].startswith("SET LOCAL")
    ]


def postgres() -> bool:
    return connection.vendor == "postgresql"


# A steady-state claim: the contributor's row locked with their live lease and the reclaim probe
# (one statement on PostgreSQL, two on SQLite), then the lease itself, which PostgreSQL takes in
# one statement (candidate, lease_count, insert) and SQLite in three.
CLAIM_STATEMENTS = 2 if connection.vendor == "postgresql" else 5


def test_claim_takes_a_handful_of_queries():
    project, (ana, _ben) = make_queue_project()
    make_tasks(project, 50, overlap=2)
    submit(claim(project, ana))  # ana's row exists; the next claim is the steady state
    with CaptureQueriesContext(connection) as queries:
        lease = claim(project, ana)
    assert lease is not None
    assert len(statements(queries)) == CLAIM_STATEMENTS, statements(queries)
    with CaptureQueriesContext(connection) as queries:
        assert claim(project, ana) == lease
    # The contributor's row with the reclaim probe (two statements on SQLite), the live lease
    assert len(statements(queries)) == (2 if postgres() else 3)


def test_submit_takes_a_handful_of_queries():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 5)
    lease = claim(project, ana)
    with CaptureQueriesContext(connection) as queries:
        submit(lease)
    # The locked assignment, then task counters, annotation insert and assignment update: one
    # statement on PostgreSQL, three on SQLite.
    assert len(statements(queries)) == (2 if postgres() else 4), statements(queries)


def test_claim_cost_does_not_grow_with_finished_tasks():
    project, (ana, ben) = make_queue_project()
    make_tasks(project, 30)
    for _ in range(30):
        submit(claim(project, ben))
    Task.objects.create(project=project, data={"last": 1})
    ProjectContributor.objects.create(project=project, user=ana)
    with CaptureQueriesContext(connection) as queries:
        assert claim(project, ana) is not None
    assert len(statements(queries)) == CLAIM_STATEMENTS


@pytest.mark.postgres
def test_claim_probes_the_persons_history_per_candidate_whatever_the_statistics():
    """Statistics taken while the project was young must not make each claim read every one of
    the person's assignments: the plan keeps one index probe per candidate."""
    project, (ana, _ben) = make_queue_project()
    make_tasks(project, 400)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_assignment")  # statistics of an empty table
    for _ in range(300):
        submit(claim(project, ana))
    candidate = sql._candidate(gold=False)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {candidate}", [project.pk, ana.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "SubPlan" in plan, plan
    assert "Seq Scan on annotation_assignment" not in plan, plan
    assert "Anti Join" not in plan, plan


def test_draft_on_an_expired_lease_is_kept_but_does_not_renew_it():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 1)
    lease = claim(project, ana)
    expire(lease)
    saved = queue.assignment_save_draft(assignment_id=lease.pk, contributor=ana, result={"a": 1})
    assert saved.lease_expires_at < timezone.now()
    lease.refresh_from_db()
    assert lease.draft == {"a": 1}


@pytest.mark.postgres
def test_a_submit_reads_its_task_by_its_key_whatever_the_planner_estimates():
    """Statistics lag a new project (its tasks' ids lie above any the planner has seen), and at a
    million tasks PostgreSQL then joined the submit's assignment to its task with a merge join
    that walked the task table's whole primary key (0.4 s). The task must be looked up by its
    key whatever the estimates say; here the planner is told to avoid nested loops, the plan
    such estimates lead to."""
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 3)
    lease = claim(project, ana)
    with CaptureQueriesContext(connection) as queries:
        submit(lease)
    (locked,) = [q["sql"] for q in queries if "FOR UPDATE OF a" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(f"EXPLAIN {locked}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_nestloop")
    joined_on_task = [
        line.strip() for line in plan.splitlines() if "Cond:" in line and "task_id" in line
    ]
    assert joined_on_task == ["Index Cond: (id = a.task_id)"], plan


@pytest.mark.postgres
def test_a_skip_reads_no_task_through_a_join():
    """The same lagging statistics would walk the task table's key in a join (560 ms at a
    million tasks): a skip locks its assignment without joining the task."""
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 2)
    lease = claim(project, ana)
    with CaptureQueriesContext(connection) as queries:
        queue.assignment_skip(assignment_id=lease.pk, contributor=ana)
    (locked,) = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert "annotation_task" not in locked, locked
    assert Task.objects.get(pk=lease.task_id).lease_count == 0
