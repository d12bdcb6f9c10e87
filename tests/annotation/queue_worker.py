"""Contributors hammering the queue: used by the concurrency test in threads and processes.

As a script (``python -m tests.annotation.queue_worker PROJECT_ID USER_ID…``, with
``DJANGO_SETTINGS_MODULE`` and ``DATABASE_URL`` set) it runs one thread per user and prints one
JSON line: the ids of the annotations it stored, counts, and any unexpected errors.
"""

import json
import random
import sys
import threading
import time
import traceback
from collections import Counter
from datetime import timedelta


def work(*, project_id: int, user_id: int, seed: int, deadline: float, out: dict) -> None:
    """One contributor: claim, then submit (sometimes twice), skip, or abandon the lease."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import F
    from django.utils import timezone

    from annotation import queue
    from annotation.models import Assignment, Task, TaskStatus
    from labelhub.models import OrganizationMember, Project

    rng = random.Random(seed)
    counts: Counter = Counter()
    annotations: list[int] = []
    errors: list[str] = []
    try:
        if connection.vendor == "postgresql":
            # Durability is not under test, exactness is: skip the wait for the disk on commit.
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
        project = Project.objects.get(pk=project_id)
        user = get_user_model().objects.get(pk=user_id)
        opted_out = (
            OrganizationMember.objects.filter(organization_id=project.organization_id, user=user)
            .values_list("content_opt_outs", flat=True)
            .first()
        ) or 0
        # What is still open for this person: they stop once nothing is (an opted-out person
        # does not spin on the marked tasks the others are finishing).
        open_to_them = (
            Task.objects.filter(project=project, status=TaskStatus.OPEN)
            .annotate(kept=F("content_flags").bitand(opted_out))
            .filter(kept=0)
        )
        abandoned: list[int] = []
        while time.monotonic() < deadline:
            lease = queue.assignment_claim_next(project=project, contributor=user)
            if lease is None:
                if not open_to_them.exists():
                    break
                counts["idle"] += 1
                time.sleep(0.002)
                continue
            roll = rng.random()
            if roll < 0.08:
                queue.assignment_skip(assignment_id=lease.pk, contributor=user, reason="test")
                counts["skip"] += 1
            elif roll < 0.11:
                # A closed tab: the lease runs out and the next claim reclaims it.
                Assignment.objects.filter(pk=lease.pk).update(
                    lease_expires_at=timezone.now() - timedelta(seconds=1)
                )
                abandoned.append(lease.pk)
                counts["abandon"] += 1
            else:
                times = 2 if roll > 0.95 else 1
                for _ in range(times):
                    submission = queue.annotation_submit(
                        assignment_id=lease.pk,
                        contributor=user,
                        result={"label": rng.choice(["cat", "dog"])},
                        active_seconds=rng.randint(1, 60),
                    )
                    if submission.created:
                        annotations.append(submission.annotation.pk)
                counts["submit"] += 1
            if abandoned and rng.random() < 0.3:
                try:  # a late submit: kept if the task still needs it
                    late = queue.annotation_submit(
                        assignment_id=abandoned.pop(), contributor=user, result={"label": "cat"}
                    )
                    if late.created:
                        annotations.append(late.annotation.pk)
                        counts["late_kept"] += 1
                except queue.LeaseLost:
                    counts["late_refused"] += 1
    except Exception:
        errors.append(traceback.format_exc())
    finally:
        connection.close()
    out[user_id] = {"annotations": annotations, "counts": dict(counts), "errors": errors}


def run_threads(*, project_id: int, user_ids: list[int], seconds: float = 150) -> dict:
    deadline = time.monotonic() + seconds
    out: dict = {}
    threads = [
        threading.Thread(
            target=work,
            kwargs={
                "project_id": project_id,
                "user_id": uid,
                "seed": uid,
                "deadline": deadline,
                "out": out,
            },
        )
        for uid in user_ids
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def main(argv: list[str]) -> None:
    import django
    from django.conf import settings

    from tests.annotation.kinds import kinds_with_exact

    django.setup()
    settings.LABELHUB_TASK_KINDS = kinds_with_exact()
    project_id, *user_ids = (int(arg) for arg in argv)
    print(json.dumps(run_threads(project_id=project_id, user_ids=user_ids)))


if __name__ == "__main__":
    main(sys.argv[1:])
