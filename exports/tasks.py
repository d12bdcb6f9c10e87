"""Background entry points of the exports app: take ids, call a service, nothing else."""

from django.tasks import task

from exports.services import export_job_run


@task
def export_job_process(export_job_id: int) -> None:
    """Write a big export to storage; the export screen polls its progress."""
    export_job_run(export_job_id=export_job_id)
