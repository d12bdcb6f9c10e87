"""Queueing background work so that it is never lost between two statements.

With the database task backend (django-tasks-db, production's) a queued task is a row of the
same database: queued inside the transaction that writes the rows it serves, it commits or rolls
back with them. Queued from ``transaction.on_commit`` instead, a process or a connection lost
between the COMMIT and the task's INSERT leaves committed rows that no task will ever serve (a
judging batch's webhook deliveries, a project's judging request) until a cron sweep finds them.

Other backends do not store tasks in the database (the immediate one runs the task at once, in
tests and in ``make run`` without a worker): they still get the task once the transaction
commits, so a task never sees rows that may yet roll back.
"""

from functools import partial

from django.db import transaction
from django.tasks import Task
from django_tasks_db.backend import DatabaseBackend


def enqueue_with_rows(task: Task, *args, **kwargs) -> None:
    """Queue ``task(*args, **kwargs)`` in the caller's transaction when tasks are rows of this
    database, else once that transaction commits (at once outside a transaction)."""
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs))
