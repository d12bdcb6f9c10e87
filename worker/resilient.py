"""A django-tasks-db worker that outlives its database connection.

django-tasks-db's ``Worker.run`` lets any ``OperationalError`` other than "database is locked"
out of its claim (``get_locked`` + ``claim`` in one transaction), and an ``InterfaceError``
("connection already closed") out of ``run_task`` when it records a result on a dead
connection; either ends the process, and with it every background job (judging, webhooks,
exports) until someone restarts it. A database restart, a failover or a terminated backend is
enough.

:class:`ResilientWorker` catches those, closes the broken connections, waits (0.5 s doubling to
30 s, back to 0.5 s once it has run for a while) and goes on; it never exits for a lost
connection. A task it claimed and could not finish or record because the connection died (under
the task, or under the claim's COMMIT) is put back in the queue (``READY``) once the database
answers again, so it runs again: LabelHub's
background tasks are idempotent (judging takes each answer once under a row lock; a delivery's
attempt commits with its result, and receivers drop a repeated delivery id).

Supervise the process anyway (``docs/labelhub-worker.service``, ``Restart=always``): this
covers the database, not the machine.
"""

import logging
import time

from django.db import InterfaceError, OperationalError, connections
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("labelhub.worker")

FIRST_DELAY = 0.5
LONGEST_DELAY = 30.0
DATABASE_ERRORS = (OperationalError, InterfaceError)


def close_broken_connections() -> None:
    """Drop every connection of this thread, whatever state it is in: the next query opens a
    new one."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DATABASE_ERRORS:
            connection.connection = None  # already gone at the server's end
        connection.in_atomic_block = False
        connection.needs_rollback = False
        connection.savepoint_ids = []


class ResilientWorker(Worker):
    def __init__(self, *args, sleep=time.sleep, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sleep = sleep
        self.reconnections = 0
        self._lost = False

    def _requeue_orphans(self) -> None:
        """Tasks this worker claimed and will never finish, queued again: the one whose result
        was lost with the connection, and one whose claim committed at the server while the
        connection died under the COMMIT (the worker saw an error and never ran it). This worker
        runs one task at a time and runs none now, so every task still RUNNING under its id
        (the last in ``worker_ids``) is such an orphan."""
        running = DBTaskResult.objects.filter(status="RUNNING", backend_name=self.backend_name)
        orphans = [
            pk
            for pk, worker_ids in running.values_list("pk", "worker_ids")
            if worker_ids and worker_ids[-1] == self.worker_id
        ]
        if orphans:
            DBTaskResult.objects.filter(pk__in=orphans, status="RUNNING").update(status="READY")
            logger.warning("Tasks %s queued again after a lost connection", orphans)
        self._lost = False

    def run(self) -> None:
        delay = FIRST_DELAY
        while True:
            started = time.monotonic()
            try:
                if self._lost:
                    self._requeue_orphans()
                return super().run()
            except DATABASE_ERRORS as error:
                self._lost = True
                self.running_task = False
                if not self.running:
                    return None
                if time.monotonic() - started > LONGEST_DELAY:
                    delay = FIRST_DELAY  # it had been working: start the backoff again
                self.reconnections += 1
                logger.warning(
                    "Lost the database (%s: %s); trying again in %.1f s",
                    type(error).__name__,
                    str(error).strip().splitlines()[0] if str(error).strip() else "",
                    delay,
                )
                close_broken_connections()
                self.sleep(delay)
                delay = min(delay * 2, LONGEST_DELAY)
