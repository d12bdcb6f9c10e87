"""The queue's hot statements, written out in SQL.

Each call of "next task" and "submit" runs a handful of statements; on this hardware the ORM
spends about 1.5 ms of Python building each one, several times what the database needs to run
it. The statements that run on every call are therefore written here once, by hand, for
PostgreSQL and SQLite, with the same meaning as the ORM code they replace (which the tests check
through the services). Rare paths (gold, qualification, late submits, reclaiming) stay in the ORM.

The task filter repeats the partial index ``task_queue_ranked`` word for word, because both engines
only use a partial index when the query's WHERE clause visibly implies the index's.

The "never had this task" test ends in ``LIMIT 1 OFFSET 0`` (:data:`NEVER_HAD`), which keeps
PostgreSQL from turning the NOT EXISTS into an anti-join, whose plan depends on the assignment
table's statistics. Planned from the statistics of a young or freshly imported project, the
anti-join reads every assignment of the person on each claim, so claims slow down as work piles
up. Kept a sub-plan, it is one probe of ``assignment_once_per_contributor`` per candidate: the walk
down the queue costs the same at ten thousand tasks and at a million.
"""

import json
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from annotation.models import Annotation, Assignment, ProjectContributor, Task
from labelhub.models import Organization, OrganizationMember, Profile, Project

ASSIGNMENT = Assignment._meta.db_table
TASK = Task._meta.db_table
CONTRIBUTOR = ProjectContributor._meta.db_table
ANNOTATION = Annotation._meta.db_table
MEMBER = OrganizationMember._meta.db_table
PROJECT = Project._meta.db_table
ORGANIZATION = Organization._meta.db_table
PROFILE = Profile._meta.db_table


def _instance(model, values: dict):
    """A model instance as if loaded from the database: the fields not given are deferred."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _when(value):
    return connection.ops.adapt_datetimefield_value(value)


def _json_in(value) -> str:
    return json.dumps(value)


def json_out(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


# One index probe per candidate; the OFFSET 0 is the point (see the module docstring).
NEVER_HAD = (
    f"NOT EXISTS (SELECT 1 FROM {ASSIGNMENT} a "  # noqa: S608 - names from _meta
    "WHERE a.task_id = t.id AND a.contributor_id = %s LIMIT 1 OFFSET 0)"
)


def _open_filter() -> str:
    if _postgres():
        return (
            "NOT t.is_gold AND t.status = 'open' AND t.lease_count < (t.overlap - t.answer_count)"
        )
    return (
        't."is_gold" = 0 AND t."status" = \'open\' '
        'AND t."lease_count" < (t."overlap" - t."answer_count")'
    )


def relax_commit() -> None:
    """Let PostgreSQL acknowledge this transaction's commit before it reaches the disk.

    For leases and drafts only: if the database server itself crashes, the last fraction of a
    second of claims or autosaves may be lost (the task simply stays in the queue; the editor
    saves again), never half of one. Submissions and skips keep the full wait.
    """
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


# The expired leases of a project, oldest first, locked (others skip them), as one JSON array
# of [id, task_id] (params: project, now, limit). PostgreSQL only.
EXPIRED_PROBE = (
    "(SELECT json_agg(json_build_array(e.id, e.task_id)) FROM ("  # noqa: S608 - _meta
    f"SELECT id, task_id FROM {ASSIGNMENT} "
    "WHERE project_id = %s AND status = 'active' AND lease_expires_at <= %s "
    "ORDER BY lease_expires_at LIMIT %s FOR UPDATE SKIP LOCKED) e)"
)
RELAX = "set_config('synchronous_commit', 'off', true)"  # SET LOCAL, as a value


def _pairs(found) -> list[tuple[int, int]]:
    return [(pk, task_id) for pk, task_id in (json_out(found) or [])]


def expired_leases(
    *, project_id: int, now, limit: int, relax: bool = False
) -> list[tuple[int, int]]:
    """(id, task id) of leases whose time is up, oldest first, locked (others skip them).

    ``relax``: also what :func:`relax_commit` does, in the same statement on PostgreSQL (a
    claim's first statement, when :func:`claim_start` could not be it).
    """
    if not _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, task_id FROM {ASSIGNMENT} "  # noqa: S608 - names from _meta
                "WHERE project_id = %s AND status = 'active' AND lease_expires_at <= %s "
                "ORDER BY lease_expires_at LIMIT %s",
                [project_id, _when(now), limit],
            )
            return cursor.fetchall()
    relaxed = f"{RELAX}, " if relax else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {relaxed}{EXPIRED_PROBE}", [project_id, _when(now), limit])
        return _pairs(cursor.fetchone()[-1])


class ClaimStart(NamedTuple):
    contributor: ProjectContributor
    expired: list[tuple[int, int]]  # (id, task id) of the project's expired leases, locked


def claim_start(
    *, project_id: int, organization_id: int, user_id: int, now, reclaim: int
) -> ClaimStart | None:
    """What a claim reads first, in one statement on PostgreSQL: its commit relaxed
    (:func:`relax_commit`), up to ``reclaim`` of the project's expired leases locked
    (:func:`expired_leases`) and the contributor's row locked (:func:`contributor_locked`).

    ``None`` when the person has no row on the project yet (their first claim): nothing was
    done then, not even the expired leases; the caller asks for those apart.
    """
    postgres = _postgres()  # SQLite: the same in two statements, its commit not relaxed
    pc = contributor_locked(
        project_id=project_id,
        organization_id=organization_id,
        user_id=user_id,
        now=now,
        reclaim=reclaim if postgres else 0,
    )
    if pc is None:
        return None
    if postgres:
        return ClaimStart(contributor=pc, expired=pc.expired)
    expired = expired_leases(project_id=project_id, now=now, limit=reclaim)
    return ClaimStart(contributor=pc, expired=expired)


def contributor_locked(
    *, project_id: int, organization_id: int, user_id: int, now, reclaim: int = 0
) -> ProjectContributor | None:
    """The contributor's row, locked, with ``live_lease_id`` (their live lease here, if any) and
    what keeps content from them in this organization: ``content_opt_outs`` (bits) and
    ``sensitive_paused_until`` (the daily cap), read from their membership by its unique index.

    ``reclaim`` (PostgreSQL only, see :func:`claim_start`): the statement also relaxes the
    commit and locks up to that many expired leases, handed back as ``pc.expired``."""
    lock = " FOR UPDATE OF pc" if _postgres() else ""
    more, more_params = "", []
    if reclaim:
        more = f", {RELAX}, {EXPIRED_PROBE}"
        more_params = [project_id, _when(now), reclaim]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pc.id, pc.status, pc.pause_reason, pc.gold_answered_count, "  # noqa: S608
            "pc.gold_score_sum, "
            f"(SELECT a.id FROM {ASSIGNMENT} a WHERE a.project_id = %s AND a.contributor_id = %s"
            " AND a.status = 'active' AND a.lease_expires_at > %s LIMIT 1), "
            f"m.content_opt_outs, m.sensitive_paused_until{more} "
            f"FROM {CONTRIBUTOR} pc LEFT JOIN {MEMBER} m "
            "ON m.organization_id = %s AND m.user_id = pc.user_id "
            f"WHERE pc.project_id = %s AND pc.user_id = %s{lock}",
            [
                *(project_id, user_id, _when(now)),
                *more_params,
                *(organization_id, project_id, user_id),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pc = _instance(
        ProjectContributor,
        {
            "id": row[0],
            "project_id": project_id,
            "user_id": user_id,
            "status": row[1],
            "pause_reason": row[2],
            "gold_answered_count": row[3],
            "gold_score_sum": row[4],
        },
    )
    pc.live_lease_id = row[5]
    pc.content_opt_outs = row[6] or 0
    paused = row[7]
    if isinstance(paused, str):  # SQLite hands datetimes back as text (UTC) to raw cursors
        paused = datetime.fromisoformat(paused)
    if paused is not None and timezone.is_naive(paused):
        paused = timezone.make_aware(paused, UTC)
    pc.sensitive_paused_until = paused
    if reclaim:
        pc.expired = _pairs(row[-1])
    return pc


TASK_FIELDS = ["id", "project_id", "data", "predictions", "is_gold", "priority", "content_flags"]
TASK_COLUMNS = ", ".join(TASK_FIELDS)
LEASE_INSERT = (
    f"INSERT INTO {ASSIGNMENT} (task_id, contributor_id, project_id, status, "
    "lease_expires_at, version, active_seconds, skip_reason, created_at, updated_at)"
)


def _candidate(*, gold: bool, exclude: int = 0, unmarked: bool = False) -> str:
    """The first task by priority, rank and id this contributor never had (params: project,
    then ``exclude`` when given, then user): the order of ``task_queue_ranked`` /
    ``task_queue_gold_ranked``, walked, never sorted.

    Real work must still need answers and is locked, skipping tasks others hold locked; gold has
    no cap, so nothing is locked. Both walk an index in the same order and test the same way,
    so that a gold task is not slower (or faster) to hand out than real work.

    ``exclude`` (content category bits the person will not be shown) adds one test of the row
    the walk reads anyway; without it the statement is exactly the one everybody else runs. The
    test is written ``(t.content_flags & %s) <= 0`` (the same as ``= 0``: the bits are never
    negative) because PostgreSQL has no statistics for the expression and guesses that an
    equality keeps 0.5% of the rows: it would then fetch the project's whole queue and sort it on
    every claim. An inequality it guesses at a third, so it walks ``task_queue_ranked`` in order
    and stops at the first task that fits (a test in tests/annotation/test_content.py checks).

    That walk reads every task it passes over, and where half the crowd opted out of a category
    the marked tasks gather at the head of the queue (only the other half takes them): each
    opted-out claim passed over all of them. ``unmarked`` (the person opted out of every category
    the project's tasks carry) walks ``task_queue_unmarked`` instead, the queue without the tasks
    that carry a category of their own, so nothing is passed over; its ``t.content_flags = 0``
    is a plain column test, which PostgreSQL has statistics for. Params as with ``exclude``.
    """
    if gold:
        kind = "t.is_gold" if _postgres() else 't."is_gold" = 1'
        lock = ""
    else:
        kind = _open_filter()
        lock = " FOR UPDATE OF t SKIP LOCKED" if _postgres() else ""
    content = " AND (t.content_flags & %s) <= 0" if exclude else ""
    if unmarked and not gold:
        # The same params (the bits are tested as 0 either way), the unmarked queue's predicate.
        column = "t.content_flags" if _postgres() else 't."content_flags"'
        content = f" AND {column} = 0 AND (t.content_flags & %s) <= 0"
    return (
        f"SELECT t.id FROM {TASK} t WHERE t.project_id = %s AND {kind}{content} "  # noqa: S608
        f"AND {NEVER_HAD} ORDER BY t.priority DESC, t.queue_rank, t.id LIMIT 1{lock}"
    )


def _candidate_params(*, project_id: int, user_id: int, exclude: int) -> list:
    return [project_id, exclude, user_id] if exclude else [project_id, user_id]


def lease_next_task(
    *, project_id: int, contributor, gold: bool, expires, now, exclude: int = 0, unmarked=False
):
    """Claim the contributor's next task (gold or real work): the task found, its slot taken
    (real work only), the lease inserted; returns the lease with its task, or None. A task
    with any of the content bits ``exclude`` is never chosen.

    One statement on PostgreSQL: the candidate is chosen and locked inside the UPDATE, the
    classic ``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`` queue, and the lease is
    inserted from its RETURNING. SQLite runs the same steps one by one (it claims one at a time).
    """
    candidate = _candidate(gold=gold, exclude=exclude, unmarked=unmarked)
    params = _candidate_params(project_id=project_id, user_id=contributor.pk, exclude=exclude)
    if not _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {TASK_COLUMNS} FROM {TASK} WHERE id = ({candidate})",  # noqa: S608
                params,
            )
            task = _task_from_row(cursor.fetchone())
            if task is None:
                return None
            if not gold:
                cursor.execute(
                    f"UPDATE {TASK} SET lease_count = lease_count + 1 WHERE id = %s",  # noqa: S608
                    [task.pk],
                )
        return assignment_insert(task=task, contributor=contributor, expires=expires, now=now)

    # A claim of the same person that held their row until a moment ago (another tab, a retry)
    # may have leased a task meanwhile: the lock on the row is waited for in the claim's first
    # statement, which read their live lease before it had waited. This statement starts after
    # the wait, so it sees that lease: it then takes nothing and hands the lease back.
    live = (
        f"SELECT id FROM {ASSIGNMENT} WHERE project_id = %s AND contributor_id = %s "  # noqa: S608
        "AND status = 'active' AND lease_expires_at > %s LIMIT 1"
    )
    free = "AND NOT EXISTS (SELECT 1 FROM live)"
    if gold:
        found = f"SELECT {TASK_COLUMNS} FROM {TASK} WHERE id = ({candidate}) {free}"  # noqa: S608
    else:
        found = (
            f"UPDATE {TASK} SET lease_count = lease_count + 1 "  # noqa: S608
            f"WHERE id = ({candidate}) {free} RETURNING {TASK_COLUMNS}"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH live AS ({live}), found AS ({found}), lease AS ({LEASE_INSERT} "  # noqa: S608
            "SELECT id, %s, project_id, 'active', %s, 1, 0, '', %s, %s FROM found RETURNING id) "
            "SELECT (SELECT id FROM live), lease.id, "
            f"{', '.join('found.' + f for f in TASK_FIELDS)} "
            "FROM (SELECT 1) one LEFT JOIN found ON true LEFT JOIN lease ON true",
            [
                *(project_id, contributor.pk, _when(now)),
                *params,
                *(contributor.pk, _when(expires), _when(now), _when(now)),
            ],
        )
        live_id, lease_id, *task_row = cursor.fetchone()
    if live_id is not None:
        return Assignment.objects.select_related("task").get(pk=live_id)
    if lease_id is None:
        return None
    task = _task_from_row(task_row)
    return _lease(pk=lease_id, task=task, contributor=contributor, expires=expires, now=now)


def _task_from_row(row) -> Task | None:
    if row is None:
        return None
    values = dict(zip(TASK_FIELDS, row, strict=True))
    values["data"], values["predictions"] = (
        json_out(values["data"]),
        json_out(values["predictions"]),
    )
    values["is_gold"] = bool(values["is_gold"])
    return _instance(Task, values)


def assignment_insert(*, task: Task, contributor, expires, now) -> Assignment:
    """A new active lease, as a model instance."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{LEASE_INSERT} VALUES (%s, %s, %s, 'active', %s, 1, 0, '', %s, %s) RETURNING id",
            [task.pk, contributor.pk, task.project_id, _when(expires), _when(now), _when(now)],
        )
        (pk,) = cursor.fetchone()
    return _lease(pk=pk, task=task, contributor=contributor, expires=expires, now=now)


def _lease(*, pk: int, task: Task, contributor, expires, now) -> Assignment:
    assignment = Assignment(
        id=pk,
        task=task,
        contributor=contributor,
        project_id=task.project_id,
        status="active",
        lease_expires_at=expires,
        version=1,
        created_at=now,
        updated_at=now,
    )
    assignment._state.adding = False
    return assignment


class SubmitRow(NamedTuple):
    """What a submit needs of an assignment, its task and its project, read in one statement."""

    status: str
    task_id: int
    project_id: int
    version: int
    data: object  # JSON as the driver gives it: json_out() it
    is_gold: bool
    gold: object
    kind: str
    schema: object
    quality: object
    finished_at: object  # set on an assignment given back after it was submitted
    content_flags: int  # the task's and its project's content bits
    organization_id: int
    time_zone: str | None  # the person's, from their profile (the day of sensitive work)
    sensitive_cap: int  # the organization's sensitive minutes a day (0: none)


def assignment_locked_for_submit(*, assignment_id: int, user_id: int) -> SubmitRow | None:
    """The contributor's assignment with what a submit needs of its task and project, locked;
    ``None`` when it is not theirs."""
    lock = " FOR UPDATE OF a" if _postgres() else ""
    task = f"JOIN {TASK} t ON t.id = a.task_id"
    if _postgres():
        # The task by its key, always: with statistics that lag a new project (its tasks' ids
        # above any the planner has seen), PostgreSQL chose a merge join that walked the task
        # table's whole primary key, 0.4 s at a million tasks. OFFSET 0 keeps the lookup apart.
        task = (
            "CROSS JOIN LATERAL (SELECT data, is_gold, gold, content_flags "  # noqa: S608
            f"FROM {TASK} WHERE id = a.task_id OFFSET 0) t"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.status, a.task_id, a.project_id, a.version, "  # noqa: S608
            "t.data, t.is_gold, t.gold, p.kind, p.schema, p.quality, a.finished_at, "
            "t.content_flags | p.content_flags, p.organization_id, pr.time_zone, "
            "o.sensitive_minutes_per_day "
            f"FROM {ASSIGNMENT} a {task} "
            f"JOIN {PROJECT} p ON p.id = a.project_id "
            f"JOIN {ORGANIZATION} o ON o.id = p.organization_id "
            f"LEFT JOIN {PROFILE} pr ON pr.user_id = %s "
            f"WHERE a.id = %s AND a.contributor_id = %s{lock}",
            [user_id, assignment_id, user_id],
        )
        row = cursor.fetchone()
    return SubmitRow(*row) if row is not None else None


def annotation_record(
    *,
    task_id: int,
    user_id: int,
    assignment_id: int,
    result: dict,
    seconds: int,
    score,
    now,
    live_slot: bool,
    shown_order: list[str] | None = None,
) -> Annotation:
    """Store the answer and mark the assignment submitted. With ``live_slot`` (a real task
    answered on its own lease) the lease's slot also turns into an answer, and the task becomes
    ``annotated`` once the overlap is reached. One statement on PostgreSQL; up to three on
    SQLite. The caller holds the assignment's lock."""
    count = (
        f"UPDATE {TASK} SET lease_count = lease_count - 1, "  # noqa: S608
        "answer_count = answer_count + 1, "
        "status = CASE WHEN answer_count >= overlap - 1 THEN 'annotated' ELSE status END "
        "WHERE id = %s"
    )
    close = (
        f"UPDATE {ASSIGNMENT} SET status = 'submitted', finished_at = %s, "  # noqa: S608
        "active_seconds = %s, updated_at = %s WHERE id = %s"
    )
    cast = "::jsonb" if _postgres() else ""
    insert = (
        f"INSERT INTO {ANNOTATION} (task_id, contributor_id, assignment_id, "  # noqa: S608
        "result, shown_order, active_seconds, gold_score, created_at) "
        f"VALUES (%s, %s, %s, %s{cast}, %s{cast}, %s, %s, %s) RETURNING id"
    )
    count_params = [task_id]
    close_params = [_when(now), seconds, _when(now), assignment_id]
    shown = list(shown_order or [])
    insert_params = [
        *(task_id, user_id, assignment_id, _json_in(result), _json_in(shown)),
        *(seconds, score, _when(now)),
    ]
    with connection.cursor() as cursor:
        if _postgres():
            steps = [f"closed AS ({close})"]
            params = close_params
            if live_slot:
                steps.append(f"counted AS ({count})")
                params = params + count_params
            cursor.execute(f"WITH {', '.join(steps)} {insert}", params + insert_params)
        else:
            if live_slot:
                cursor.execute(count, count_params)
            cursor.execute(close, close_params)
            cursor.execute(insert, insert_params)
        (pk,) = cursor.fetchone()
    annotation = Annotation(
        id=pk,
        task_id=task_id,
        contributor_id=user_id,
        assignment_id=assignment_id,
        result=result,
        shown_order=shown,
        active_seconds=seconds,
        gold_score=score,
        created_at=now,
    )
    annotation._state.adding = False
    return annotation
