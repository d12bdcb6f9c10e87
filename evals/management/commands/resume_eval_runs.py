"""Queue again every eval run whose worker died or whose queue entry was lost.

Housekeeping to run from cron beside `resume_exports`: a run picked up again resumes (what it
stored is not asked again; see evals.services.run_execute).
"""

from django.core.management.base import BaseCommand

from evals.services import runs_abandoned
from evals.tasks import eval_run_process


class Command(BaseCommand):
    help = "Queue again eval runs that a dead worker left running (or that were never picked up)."

    def handle(self, *args, **options) -> None:
        run_ids = runs_abandoned()
        for run_id in run_ids:
            eval_run_process.enqueue(run_id)
        self.stdout.write(f"Queued {len(run_ids)} eval runs again.")
