"""``manage.py db_worker``: django-tasks-db's worker, surviving a lost database connection.

The same command line and options as django-tasks-db's own (this app comes before it in
``INSTALLED_APPS``, so this command takes its name); only the worker differs:
:class:`worker.resilient.ResilientWorker` reconnects with backoff instead of exiting.
"""

import gc
import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from worker.resilient import ResilientWorker


class Command(db_worker.Command):
    help = db_worker.Command.help + " Rides out lost database connections."

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay,
               reload, max_tasks, worker_id, exclude_queues, **options):  # fmt: skip
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            # What the process has loaded lives as long as it does: keep it out of the garbage
            # collector's full passes (see config/wsgi.py), so a judging run is not paused by one.
            gc.collect()
            gc.freeze()
            worker.run()
