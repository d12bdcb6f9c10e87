"""Background entry points of the evals app (django.tasks, run by ``manage.py db_worker``).

Eval runs go to a queue of their own, ``evals``: a run asks models thousands of prompts and may
take hours, and a worker runs one task at a time, so on the ``default`` queue it would hold up
judging, webhooks and exports. Run ``manage.py db_worker --queue-name evals`` for them. A judge
grading one audit attempt is a single call and stays on ``default``.
"""

from django.tasks import task

from evals.services import judges_recalibrate, run_execute

EVALS_QUEUE = "evals"


@task(queue_name=EVALS_QUEUE)
def eval_run_process(run_id: int) -> str:
    return run_execute(run_id=run_id).status


@task(queue_name=EVALS_QUEUE)
def judges_recalibrate_process(project_id: int) -> int:
    """People's grades came in on responses a calibrated judge graded: measure it again."""
    return judges_recalibrate(project_id=project_id)


@task
def audit_judge_process(audit_id: int, judge_version_id: int) -> None:
    from evals.audits import audit_judge_execute

    audit_judge_execute(audit_id=audit_id, version_id=judge_version_id)
