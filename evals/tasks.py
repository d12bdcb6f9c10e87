"""Background entry points of the evals app (django.tasks, run by ``manage.py db_worker``)."""

from django.tasks import task

from evals.services import run_execute


@task
def eval_run_process(run_id: int) -> str:
    return run_execute(run_id=run_id).status


@task
def audit_judge_process(audit_id: int, judge_version_id: int) -> None:
    from evals.audits import audit_judge_execute

    audit_judge_execute(audit_id=audit_id, version_id=judge_version_id)
