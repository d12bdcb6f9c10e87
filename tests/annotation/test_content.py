"""Protection from distressing content in the queue: opt-outs in the claim, the daily cap, skips.

The claim runs on SQLite and PostgreSQL alike (the suite runs on both), so these test both paths.
"""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from annotation import queue
from annotation import queue_sql as sql
from annotation.models import Assignment, ProjectContributor, SensitiveWorkDay, Task
from annotation.sensitive import sensitive_today
from labelhub.content import (
    ALL_CATEGORIES,
    content_category_create,
    content_opt_outs_set,
    content_policy_set,
    project_content_set,
)
from labelhub.models import OrganizationMember, Role
from tests.annotation.helpers import make_gold, make_queue_project, make_tasks
from tests.annotation.test_queue import CLAIM_STATEMENTS, claim, statements, submit
from tests.factories import make_user

pytestmark = pytest.mark.django_db

VIOLENCE, SEXUAL, SELF_HARM = 1, 2, 4


def opt_out(project, user, *names):
    content_opt_outs_set(organization=project.organization, user=user, names=list(names))


def flag(tasks, flags):
    Task.objects.filter(pk__in=[t.pk for t in tasks]).update(content_flags=flags)


def test_opted_out_contributor_never_gets_those_tasks_over_many_claims():
    project, (ana, ben) = make_queue_project()
    tasks = make_tasks(project, 60)
    violent = tasks[::3]  # every third task, spread through the queue's order
    flag(violent, VIOLENCE)
    flag(tasks[1::3], SELF_HARM)  # a category ana keeps
    opt_out(project, ana, "violence")
    got = []
    while lease := claim(project, ana):
        got.append(lease.task_id)
        submit(lease)
    assert len(got) == 40
    assert not set(got) & {t.pk for t in violent}
    # Nobody else is affected: ben gets the violent ones as well.
    ben_got = []
    while lease := claim(project, ben):
        ben_got.append(lease.task_id)
        submit(lease)
    assert {t.pk for t in violent} <= set(ben_got)


def test_an_organizations_own_category_is_a_bit_like_the_built_ins():
    project, (ana,) = make_queue_project(contributors=1)
    own = content_category_create(
        organization=project.organization, name="Animal cruelty", actor=ana
    )
    assert (own.name, own.bit) == ("animal-cruelty", 5)
    cruel, plain = make_tasks(project, 2)
    flag([cruel], own.flag)
    opt_out(project, ana, "animal-cruelty")
    assert claim(project, ana).task_id == plain.pk


def test_gold_with_an_opted_out_category_is_not_handed_out():
    project, (ana,) = make_queue_project(contributors=1, quality={"qualification_tasks": 2})
    gold = make_gold(project, 3)
    flag(gold[:1], SEXUAL)
    opt_out(project, ana, "sexual-content")
    got = []
    for _ in range(2):
        lease = claim(project, ana)
        got.append(lease.task_id)
        submit(lease)
    assert set(got) == {gold[1].pk, gold[2].pk}


def test_whole_project_opted_out_is_said_plainly():
    project, (ana, ben) = make_queue_project()
    make_tasks(project, 3)
    project_content_set(project=project, names=["self-harm"], actor=ana)
    project.refresh_from_db()
    opt_out(project, ana, "self-harm", "hate")
    with pytest.raises(queue.ContentOptedOut, match="marked self-harm, which you chose not"):
        claim(project, ana)
    assert not Assignment.objects.filter(contributor=ana).exists()
    assert claim(project, ben) is not None


def test_claim_of_a_person_without_opt_outs_runs_the_old_statements():
    """No opt-outs: the same number of statements, and the candidate statement exactly as it was
    before content categories (no content test in it at all)."""
    project, (ana, ben) = make_queue_project()
    tasks = make_tasks(project, 20, overlap=2)
    flag(tasks[::2], VIOLENCE)
    opt_out(project, ben, "violence")
    submit(claim(project, ana))
    with CaptureQueriesContext(connection) as queries:
        assert claim(project, ana) is not None
    assert len(statements(queries)) == CLAIM_STATEMENTS
    assert not any("content_flags &" in q["sql"] for q in queries.captured_queries)
    assert sql._candidate(gold=False) == sql._candidate(gold=False, exclude=0)
    assert "content_flags" not in sql._candidate(gold=False)
    # ben's claim costs the same number of statements, with the test added.
    submit(claim(project, ben))
    with CaptureQueriesContext(connection) as queries:
        assert claim(project, ben) is not None
    assert len(statements(queries)) == CLAIM_STATEMENTS
    assert any("content_flags &" in q["sql"] for q in queries.captured_queries)


@pytest.mark.postgres
def test_claim_with_opt_outs_still_walks_the_queue_index():
    project, (ana,) = make_queue_project(contributors=1)
    tasks = make_tasks(project, 2000)
    flag(tasks[::2], VIOLENCE)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_task")
        cursor.execute(
            f"EXPLAIN {sql._candidate(gold=False, exclude=VIOLENCE)}",
            [project.pk, VIOLENCE, ana.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using task_queue_ranked" in plan, plan
    assert "Sort" not in plan, plan


def test_submit_of_plain_work_counts_no_sensitive_time():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 2)
    lease = claim(project, ana)
    with CaptureQueriesContext(connection) as queries:
        queue.annotation_submit(
            assignment_id=lease.pk, contributor=ana, result={"label": "cat"}, active_seconds=30
        )
    assert len(statements(queries)) == (2 if connection.vendor == "postgresql" else 4)
    assert not SensitiveWorkDay.objects.exists()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", ""])
def test_submit_of_sensitive_work_counts_its_time_on_the_persons_own_day(zone):
    """One statement more than a plain submit: the person's time zone and the organization's cap
    come with the assignment."""
    from labelhub.models import Profile

    project, (ana,) = make_queue_project(contributors=1)
    Profile.objects.update_or_create(user=ana, defaults={"time_zone": zone})
    flag(make_tasks(project, 1), VIOLENCE)
    lease = claim(project, ana)
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        queue.annotation_submit(
            assignment_id=lease.pk, contributor=ana, result={"label": "cat"}, active_seconds=30
        )
    assert len(statements(queries)) == (3 if connection.vendor == "postgresql" else 5)
    day = SensitiveWorkDay.objects.get(user=ana)
    local = timezone.localtime(now, zoneinfo.ZoneInfo(zone) if zone else None)
    assert (day.day, day.seconds, day.tasks) == (local.date(), 30, 1)


def test_daily_cap_keeps_sensitive_tasks_away_for_the_rest_of_the_day():
    project, (ana,) = make_queue_project(contributors=1)
    content_policy_set(organization=project.organization, actor=ana, sensitive_minutes_per_day=2)
    tasks = make_tasks(project, 6)
    flag(tasks[:4], SELF_HARM)
    first = claim(project, ana)
    assert first.task_id == tasks[0].pk
    queue.annotation_submit(
        assignment_id=first.pk, contributor=ana, result={"label": "cat"}, active_seconds=70
    )
    second = claim(project, ana)
    assert second.task_id == tasks[1].pk  # 70 s of 120: still under the cap
    queue.annotation_submit(
        assignment_id=second.pk, contributor=ana, result={"label": "cat"}, active_seconds=60
    )
    member = OrganizationMember.objects.get(organization=project.organization, user=ana)
    assert member.sensitive_paused_until > timezone.now()
    # Over the cap: only plain work from now on.
    got = []
    while lease := claim(project, ana):
        got.append(lease.task_id)
        submit(lease)
    assert got == [tasks[4].pk, tasks[5].pk]
    project.organization.refresh_from_db()
    today = sensitive_today(organization=project.organization, user_id=ana.pk)
    assert (today.minutes, today.streak, today.minutes_left) == (2, 2, 0)


def test_over_the_cap_a_sensitive_project_says_why():
    project, (ana,) = make_queue_project(contributors=1)
    make_tasks(project, 2)
    project_content_set(project=project, names=["violence"], actor=ana)
    project.refresh_from_db()
    OrganizationMember.objects.filter(user=ana).update(
        sensitive_paused_until=timezone.now() + timedelta(hours=1)
    )
    with pytest.raises(queue.SensitiveLimitReached, match="today's limit"):
        claim(project, ana)
    OrganizationMember.objects.filter(user=ana).update(
        sensitive_paused_until=timezone.now() - timedelta(seconds=1)
    )
    assert claim(project, ana) is not None  # the pause ends by itself


def test_break_is_suggested_after_a_stretch_of_sensitive_tasks():
    project, (ana,) = make_queue_project(contributors=1)
    project.organization = content_policy_set(
        organization=project.organization, actor=ana, sensitive_break_after=3
    )
    flag(make_tasks(project, 4), VIOLENCE)
    due = []
    for _ in range(4):
        submit(claim(project, ana))
        due.append(sensitive_today(organization=project.organization, user_id=ana.pk).break_due)
    assert due == [False, False, True, False]
    SensitiveWorkDay.objects.update(last_at=timezone.now() - timedelta(minutes=11))
    assert sensitive_today(organization=project.organization, user_id=ana.pk).streak == 0


def test_all_categories_mask_fits_a_signed_bigint():
    assert ALL_CATEGORIES == 2**63 - 1


def _standing_figures(project, manager):
    client = APIClient()
    client.force_authenticate(manager)
    response = client.get(f"/api/v1/projects/{project.pk}/contributors/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("reason", ["distressing", "", "broken", "unclear"])
def test_a_skip_never_counts_against_the_contributor(reason):
    """Standing, accuracy, the review share and the contributor's record are the same after any
    skip, for distressing content above all. Fails the day someone counts skips."""
    manager = make_user()
    project, (ana,) = make_queue_project(contributors=1, quality={"gold_rate": 0})
    project.members.create(user=manager, role=Role.MANAGER)
    gold = make_gold(project, 2)
    make_tasks(project, 6)
    for _ in range(3):
        submit(claim(project, ana))
    for task in gold:  # two gold answers, so that accuracy has something to say
        lease = sql.assignment_insert(
            task=task,
            contributor=ana,
            expires=timezone.now() + timedelta(minutes=5),
            now=timezone.now(),
        )
        submit(lease, label="dog" if task == gold[0] else "cat")
    before = _standing_figures(project, manager)
    pc_before = ProjectContributor.objects.filter(project=project, user=ana).values().get()
    for _ in range(3):
        lease = claim(project, ana)
        queue.assignment_skip(assignment_id=lease.pk, contributor=ana, reason=reason)
    after = _standing_figures(project, manager)
    pc_after = ProjectContributor.objects.filter(project=project, user=ana).values().get()
    assert Assignment.objects.filter(contributor=ana, status="skipped").count() == 3
    assert after == before
    pc_before.pop("updated_at"), pc_after.pop("updated_at")
    assert pc_after == pc_before


def imported(project, flags_per_task: list[int]) -> list[Task]:
    """Tasks written by the import (which keeps the project's record of the bits tasks carry)."""
    from annotation.importing import CleanTask
    from annotation.imports import tasks_write

    tasks_write(
        project=project,
        tasks=[
            CleanTask(
                where=f"row {i}",
                data={"n": i},
                given=frozenset({"data"}),
                external_id=f"t{i}",
                gold=None,
                predictions=[],
                callback_url="",
                priority=0,
                content_flags=flags,
            )
            for i, flags in enumerate(flags_per_task)
        ],
    )
    return list(Task.objects.filter(project=project).order_by("id"))


def test_the_import_records_the_bits_its_tasks_carry():
    project, _ = make_queue_project(contributors=1)
    imported(project, [0, VIOLENCE, 0])
    project.refresh_from_db()
    assert project.task_content_flags == VIOLENCE
    imported(project, [SELF_HARM])  # only grows
    project.refresh_from_db()
    assert project.task_content_flags == VIOLENCE | SELF_HARM


def test_opted_out_of_every_marked_category_the_claim_walks_only_unmarked_tasks():
    """Marked tasks at the head of the queue (the rest of the crowd has not reached them) are
    not walked past: the claim reads the queue of unmarked tasks, in the queue's order."""
    project, (ana,) = make_queue_project(contributors=1)
    tasks = imported(project, [VIOLENCE] * 30 + [0] * 5)
    opt_out(project, ana, "violence")
    first = claim(project, ana)  # her contributor row is made: the next claim is the steady state
    submit(first)
    with CaptureQueriesContext(connection) as queries:
        lease = claim(project, ana)
    assert len(statements(queries)) == CLAIM_STATEMENTS
    assert any(re.search(r'content_flags"? = 0', q["sql"]) for q in queries.captured_queries)
    got = [first.task_id, lease.task_id]
    submit(lease)
    while lease := claim(project, ana):
        got.append(lease.task_id)
        submit(lease)
    assert got == [t.pk for t in tasks[30:]]  # in order, and never a marked one


def test_a_category_the_person_keeps_is_walked_in_the_queues_order():
    project, (ana,) = make_queue_project(contributors=1)
    tasks = imported(project, [VIOLENCE, SELF_HARM, 0, VIOLENCE | SELF_HARM, 0, SELF_HARM])
    opt_out(project, ana, "violence")
    got = []
    while lease := claim(project, ana):
        got.append(lease.task_id)
        submit(lease)
    assert got == [tasks[i].pk for i in (1, 2, 4, 5)]


def test_a_task_marked_outside_the_import_is_still_handed_out_after_the_unmarked_ones():
    """The project's record misses bits set behind the import's back: the person is served the
    unmarked tasks first, then the rest by the full walk; never a task they opted out of."""
    project, (ana,) = make_queue_project(contributors=1)
    tasks = make_tasks(project, 6)
    flag(tasks[:2], SELF_HARM)  # kept by ana, unknown to the project's record
    flag(tasks[2:3], VIOLENCE)
    opt_out(project, ana, "violence")
    got = []
    while lease := claim(project, ana):
        got.append(lease.task_id)
        submit(lease)
    assert got == [tasks[i].pk for i in (3, 4, 5, 0, 1)]


@pytest.mark.postgres
def test_the_unmarked_walk_uses_its_index():
    project, (ana,) = make_queue_project(contributors=1)
    tasks = make_tasks(project, 2000)
    flag(tasks[::2], VIOLENCE)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_task")
        cursor.execute(
            f"EXPLAIN {sql._candidate(gold=False, exclude=VIOLENCE, unmarked=True)}",
            [project.pk, VIOLENCE, ana.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using task_queue_unmarked" in plan, plan
    assert "Sort" not in plan, plan
