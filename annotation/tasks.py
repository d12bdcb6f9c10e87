"""Background entry points of the annotation app: take ids, call a service, nothing else."""

from django.tasks import task

from annotation.imports import import_job_run
from annotation.services import tasks_rank


@task
def import_job_process(import_job_id: int) -> None:
    """Run a queued import (a file, or a JSON list too big to create within the request)."""
    import_job_run(import_job_id=import_job_id)


@task
def tasks_rank_project(project_id: int, only_new: bool = False) -> None:
    """Put a project's tasks in its queue order (after the order changed, or an import)."""
    tasks_rank(project_id=project_id, only_new=only_new)


def rank_after_order_change(*, project_id: int) -> None:
    tasks_rank_project.enqueue(project_id)
