"""Background entry points of the quality app: each takes ids and calls one service."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.tasks import Task, task
from django.utils import timezone

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
    # A full batch means a backlog: a second run may start at once, nothing is left to gather.
    judging_run(
        project_id=project_id, on_full_batch=partial(request_judging, project_id, gather=False)
    )


def request_judging(project_id: int, *, gather: bool = True) -> None:
    """Queue a run for the project unless one is queued already. The request row and the run's
    task commit together: a row left without its run would make every later submit queue
    nothing (the row says a run is coming) until ``consolidate_pending`` found the answers.
    While a run waits, later requests only look (:func:`quality.judging.judging_requested`).

    With ``gather`` the run starts ``JUDGING_GATHER_SECONDS`` after this first request, so the
    answers submitted meanwhile join its batch (see :func:`after_gathering`)."""
    if judging_requested(project_id=project_id):
        return
    with transaction.atomic():
        if judging_request(project_id=project_id):
            enqueue_with_rows(
                after_gathering(judge_project) if gather else judge_project, project_id
            )


def after_gathering(run: Task) -> Task:
    """``run`` deferred by ``JUDGING_GATHER_SECONDS`` where the backend can defer a task.

    A run costs the same few statements however few answers it judges. Started at once, a run
    took the one or two answers that came while the last one ran, and the worker ran without a
    pause beside a single annotator: about 3 ms of its CPU per answer, against 1.1 ms in batches
    of a hundred, on the same cores as the web server (docs/performance.md). Half a second of
    gathering is what a customer waits more for a judged answer and its webhook.
    """
    seconds = settings.JUDGING_GATHER_SECONDS
    if seconds <= 0 or not run.get_backend().supports_defer:
        return run
    return run.using(run_after=timezone.now() + timedelta(seconds=seconds))


def after_submit(*, annotation_id: int, project_id: int) -> None:
    """The hook annotation calls once a submission has committed: ask for the quality step, so
    the submit request never waits for consensus, review sampling or a webhook. A thousand
    submits while a run is queued add one statement each, and no background-task row."""
    request_judging(project_id)
