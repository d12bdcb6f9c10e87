"""Background entry points of the backends app (django.tasks, run by ``manage.py db_worker``)."""

from django.tasks import task

from backends.services import run_execute


@task
def prediction_run_process(run_id: int) -> str:
    return run_execute(run_id=run_id).status
