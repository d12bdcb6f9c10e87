"""Background entry points of the annotation app: take ids, call a service, nothing else."""

from django.tasks import task

from annotation.services import import_job_run


@task
def import_job_process(import_job_id: int) -> None:
    """Run a queued import (a file, or a JSON list too big to create within the request)."""
    import_job_run(import_job_id=import_job_id)
