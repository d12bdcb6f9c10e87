"""Background entry points of the quality app: each takes ids and calls one service."""

from functools import partial

from django.db import transaction
from django.tasks import task

from annotation.webhooks import LINE_PRIORITY
from labelhub.background import enqueue_with_rows
from quality.judging import judging_request, judging_requested, judging_run

# Ahead of everything else a worker does (imports, exports), level with the webhook deliveries
# it makes, first come first served: a submission is done for the customer only when it is
# judged and delivered, and a run is cheap and at most one per project.
JUDGING_PRIORITY = LINE_PRIORITY


@task(priority=JUDGING_PRIORITY)
def judge_project(project_id: int) -> None:
    """Judge the project's waiting answers: standing, gold, consolidation, routing, webhooks."""
    judging_run(project_id=project_id, on_full_batch=partial(request_judging, project_id))


def request_judging(project_id: int) -> None:
    """Queue a run for the project unless one is queued already. The request row and the run's
    task commit together: a row left without its run would make every later submit queue
    nothing (the row says a run is coming) until ``consolidate_pending`` found the answers.
    While a run waits, later requests only look (:func:`quality.judging.judging_requested`)."""
    if judging_requested(project_id=project_id):
        return
    with transaction.atomic():
        if judging_request(project_id=project_id):
            enqueue_with_rows(judge_project, project_id)


def after_submit(*, annotation_id: int, project_id: int) -> None:
    """The hook annotation calls once a submission has committed: ask for the quality step, so
    the submit request never waits for consensus, review sampling or a webhook. A thousand
    submits while a run is queued add one statement each, and no background-task row."""
    request_judging(project_id)
