"""Queue again every export job whose worker died or whose queue entry was lost.

Housekeeping to run from cron beside `deliver_webhooks`: a job picked up again starts over and
stores its file once (see exports.services.export_job_run).
"""

from django.core.management.base import BaseCommand

from exports.services import export_jobs_abandoned
from exports.tasks import export_job_process


class Command(BaseCommand):
    help = "Queue again export jobs that a dead worker left running (or that were never picked up)."

    def handle(self, *args, **options) -> None:
        job_ids = export_jobs_abandoned()
        for job_id in job_ids:
            export_job_process.enqueue(job_id)
        self.stdout.write(f"Queued {len(job_ids)} export jobs again.")
