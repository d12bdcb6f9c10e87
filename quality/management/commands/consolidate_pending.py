"""Consolidate every task that has all its answers but no outcome yet.

Housekeeping after a worker outage: the quality step of a submission runs as a background task,
and a task whose step never ran stays ``annotated``. Safe to run at any time and repeatedly.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.models import Task, TaskStatus
from quality.services import task_consolidate


class Command(BaseCommand):
    help = "Consolidate tasks left 'annotated' (all answers in, no consensus yet)."

    def handle(self, *args, **options) -> None:
        pending = Task.objects.filter(status=TaskStatus.ANNOTATED, is_gold=False).values_list(
            "pk", flat=True
        )
        done = 0
        for task_id in list(pending.iterator()):
            with transaction.atomic():
                task = (
                    Task.objects.select_for_update(of=("self",))
                    .select_related("project")
                    .filter(pk=task_id, status=TaskStatus.ANNOTATED)
                    .first()
                )
                if task is not None:
                    task_consolidate(task=task)
                    done += 1
        self.stdout.write(f"Consolidated {done} tasks.")
