"""Time on sensitive work: the daily cap and the suggested break (policy in labelhub.content).

The submit of a sensitive task (one whose task or project carries a content category) adds its
active seconds to the person's :class:`~annotation.models.SensitiveWorkDay` in one upsert; the
submit of any other task does nothing here. When the day's seconds reach the organization's cap,
their membership gets ``sensitive_paused_until`` (their next local midnight) and the claim keeps
every sensitive task from them until then (:func:`annotation.queue.content_excluded`).

A "day" is the person's own (their profile's time zone, else the server's), so that the cap
resets at their midnight. A *stretch* is the sensitive tasks done without a pause of
:data:`BREAK_GAP`: after ``sensitive_break_after`` of them the work screen suggests a break.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from annotation.models import Assignment, AssignmentStatus, SensitiveWorkDay, Task
from labelhub.content import opted_out_of
from labelhub.models import Organization, OrganizationMember, Profile
from labelhub.permissions import can_manage

BREAK_GAP = timedelta(minutes=10)
DAY = SensitiveWorkDay._meta.db_table


def content_withheld(*, user, task: Task) -> bool:
    """Whether the task's content is kept from this person when asked for by its id: they opted
    out of one of its categories, do not manage its project, and hold no lease on it (a task
    they held before opting out stays theirs to finish or skip). The queue and the lists filter
    the same way (:func:`labelhub.content.tasks_not_opted_out`)."""
    return (
        opted_out_of(task=task, project=task.project, user=user)
        and not can_manage(user=user, project=task.project)
        and not Assignment.objects.filter(
            task=task, contributor_id=user.pk, status=AssignmentStatus.ACTIVE
        ).exists()
    )


def _zone_of(user_id: int):
    return zone_named(
        Profile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    )


def zone_named(name: str | None):
    """A person's time zone from their profile's name for it, else the server's."""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def _when(value):
    return connection.ops.adapt_datetimefield_value(value)


def sensitive_work_record(
    *, organization_id: int, user_id: int, seconds: int, now, time_zone: str | None, cap: int
) -> None:
    """Count one submitted sensitive task; pause sensitive work when the day's cap is reached.

    Runs inside the submit's transaction (which holds the assignment's lock), which read the
    person's ``time_zone`` (their profile's, or None) and the organization's ``cap`` (minutes a
    day, 0 for none) with the assignment: one statement here, unless the cap is reached.
    """
    zone = zone_named(time_zone)
    local = timezone.localtime(now, zone)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DAY} AS d (organization_id, user_id, day, seconds, tasks, streak, "  # noqa: S608
            "last_at) VALUES (%s, %s, %s, %s, 1, 1, %s) "
            "ON CONFLICT (user_id, organization_id, day) DO UPDATE SET "
            "seconds = d.seconds + excluded.seconds, tasks = d.tasks + 1, "
            "streak = CASE WHEN d.last_at < %s THEN 1 ELSE d.streak + 1 END, "
            "last_at = excluded.last_at RETURNING seconds",
            [
                organization_id,
                user_id,
                connection.ops.adapt_datefield_value(local.date()),
                seconds,
                _when(now),
                _when(now - BREAK_GAP),
            ],
        )
        (total,) = cursor.fetchone()
    if cap and total >= cap * 60:
        midnight = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=zone)
        OrganizationMember.objects.filter(organization_id=organization_id, user_id=user_id).update(
            sensitive_paused_until=midnight
        )


@dataclass(frozen=True)
class SensitiveToday:
    minutes: int  # sensitive work done today
    cap: int  # the organization's cap in minutes (0: none)
    streak: int  # sensitive tasks in the current stretch
    break_after: int  # a break is suggested after this many (0: never)

    @property
    def break_due(self) -> bool:
        """Once every ``break_after`` tasks of a stretch (dismissed, it waits for the next)."""
        return bool(self.break_after and self.streak and self.streak % self.break_after == 0)

    @property
    def minutes_left(self) -> int | None:
        return max(self.cap - self.minutes, 0) if self.cap else None


def sensitive_today(*, organization: Organization, user_id: int, now=None) -> SensitiveToday:
    """The person's sensitive work today in the organization (two small reads)."""
    now = now or timezone.now()
    local = timezone.localtime(now, _zone_of(user_id))
    day = SensitiveWorkDay.objects.filter(
        organization_id=organization.pk, user_id=user_id, day=local.date()
    ).first()
    streak = 0
    if day is not None and day.last_at >= now - BREAK_GAP:
        streak = day.streak
    return SensitiveToday(
        minutes=(day.seconds // 60) if day else 0,
        cap=organization.sensitive_minutes_per_day,
        streak=streak,
        break_after=organization.sensitive_break_after,
    )
