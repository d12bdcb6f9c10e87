"""Finish the quality step wherever it never ran: answers not yet judged, and tasks left
``annotated`` with all their answers but no outcome.

Housekeeping after an outage (a web process that died between a submit's commit and its request
for judging, a worker killed in a batch, a backlog with no later submission to wake it). Safe to
run at any time, repeatedly, and beside running workers: it takes the same locks they do.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from annotation.models import Task, TaskStatus
from quality.judging import judging_run, projects_with_waiting_answers, task_consolidate


class Command(BaseCommand):
    help = "Judge answers still waiting and consolidate tasks left 'annotated'."

    def handle(self, *args, **options) -> None:
        judged = sum(judging_run(project_id=pk) for pk in projects_with_waiting_answers())
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
                if task is not None and task.annotations.exists():
                    task_consolidate(task=task)
                    done += 1
        self.stdout.write(f"Judged {judged} answers; consolidated {done} tasks.")
