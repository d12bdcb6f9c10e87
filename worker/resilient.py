"""A django-tasks-db worker that outlives its database connection.

django-tasks-db's ``Worker`` loses work in two ways when the database goes away:

* its loop lets any ``OperationalError`` other than "database is locked" out of its claim
  (``get_locked`` + ``claim`` in one transaction), and an ``InterfaceError`` ("connection already
  closed") out of ``run_task`` when it records a result on a dead connection; either ends the
  process, and with it every background job (judging, webhooks, exports) until someone restarts
  it;
* ``run_task`` records *any* exception of a task as ``FAILED``, a database error included. A task
  whose connection is cut inside ``transaction.atomic()`` gets its ``OperationalError``; Django
  closes the broken connection and the next statement opens a new one, so ``set_failed``
  succeeds: the run is recorded failed, and its work (a judging run's answers, a batch of
  deliveries) waits for a cron sweep.

:class:`ResilientWorker` catches the first, closes the broken connections, waits (0.5 s doubling
to 30 s, back to 0.5 s once it has run for a while) and goes on; it never exits for a lost
connection. For the second, a task that fails with ``OperationalError`` or ``InterfaceError`` is
not recorded: it is put back in the queue (``READY``), to run again after a delay that doubles
with each such failure (0.5 s up to 30 s), and only its ``MAX_ATTEMPTS``-th run in a row that
ends so is recorded ``FAILED`` (a task that always meets a deadlock or a timeout must not loop
for ever). A task it claimed and could not record because the connection died (under the task,
under its result or under the claim's COMMIT) is put back the same way once the database answers
again. LabelHub's background tasks are idempotent, so running one again is safe (judging takes
each answer once under a row lock; a delivery's attempt commits with its result, and receivers
drop a repeated delivery id).

Supervise the process anyway (``docs/labelhub-worker.service``, ``Restart=always``): this
covers the database, not the machine.
"""

import logging
import time
from contextlib import suppress
from datetime import timedelta

from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("labelhub.worker")

FIRST_DELAY = 0.5
LONGEST_DELAY = 30.0
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Runs of one task that may end in a database error before it is recorded FAILED: with the
# delays below, about seven minutes of a database that cuts it off every time.
MAX_ATTEMPTS = 20


class TaskInterrupted(Exception):
    """A task's run ended with a database error: it goes back in the queue, unrecorded."""


def retry_delay(attempts: int) -> float:
    """Seconds before a task that has run ``attempts`` times, each cut short, runs again."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)


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
        self.interruptions = 0
        self._lost = False

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """django-tasks-db's ``run_task``, except that a database error is not recorded as the
        task's failure: the run raises :class:`TaskInterrupted` and :meth:`run` queues the task
        again (its ``MAX_ATTEMPTS``-th such run is recorded FAILED as usual).

        The library records every exception, of the task or of ``set_successful``, through the
        result's ``set_failed``; this instance's ``set_failed`` is where the choice is made, so
        the rest (signals, counting runs for ``--max-tasks``) stays the library's."""
        record_failure = db_task_result.set_failed

        def set_failed(error: BaseException) -> None:
            if isinstance(error, DATABASE_ERRORS) and len(db_task_result.worker_ids) < MAX_ATTEMPTS:
                raise TaskInterrupted(db_task_result.pk) from error
            record_failure(error)

        db_task_result.set_failed = set_failed  # type: ignore[method-assign]
        super().run_task(db_task_result)

    def _requeue_orphans(self) -> None:
        """Tasks this worker claimed and will never finish, queued again: one whose run met a
        database error, one whose result was lost with the connection, and one whose claim
        committed at the server while the connection died under the COMMIT (the worker saw an
        error and never ran it). This worker runs one task at a time and runs none now, so every
        task still RUNNING under its id (the last in ``worker_ids``) is such an orphan. Each
        waits ``retry_delay`` of its runs so far; one that has had ``MAX_ATTEMPTS`` is recorded
        FAILED instead."""
        running = DBTaskResult.objects.filter(
            status="RUNNING", backend_name=self.backend_name
        ).only("pk", "worker_ids")
        now = timezone.now()
        for orphan in running:
            if not orphan.worker_ids or orphan.worker_ids[-1] != self.worker_id:
                continue
            attempts = len(orphan.worker_ids)
            if attempts >= MAX_ATTEMPTS:
                orphan.set_failed(
                    TaskInterrupted(f"Its database connection was lost in {attempts} runs.")
                )
                logger.error("Task %s failed: %d runs cut short", orphan.pk, attempts)
                continue
            DBTaskResult.objects.filter(pk=orphan.pk, status="RUNNING").update(
                status="READY", run_after=now + timedelta(seconds=retry_delay(attempts))
            )
            logger.warning("Task %s queued again after a database error", orphan.pk)
        self._lost = False

    def run(self) -> None:
        delay = FIRST_DELAY
        while True:
            started = time.monotonic()
            try:
                if self._lost:
                    self._requeue_orphans()
                return super().run()
            except TaskInterrupted as interrupted:
                # The database may be fine (a deadlock, a cut connection Django replaced):
                # no pause here; the task waits its own delay, and a database still gone
                # shows up in the requeue, which backs off below.
                self._lost = True
                self.interruptions += 1
                cause = interrupted.__cause__
                logger.warning(
                    "Task %s met a database error (%s); queued again",
                    interrupted,
                    type(cause).__name__,
                )
                close_broken_connections()
                done = self.max_tasks is not None and self._run_tasks >= self.max_tasks
                if done or not self.running:
                    with suppress(*DATABASE_ERRORS):
                        self._requeue_orphans()
                    return None
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
            finally:
                self.startup_delay = False  # the random pause is for a process's first start
