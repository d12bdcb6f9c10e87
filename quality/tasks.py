"""Background entry points of the quality app: each takes ids and calls one service."""

from django.tasks import task

from quality.services import annotation_after_submit


@task
def after_submit(annotation_id: int) -> None:
    """Standing, gold judgement and (once the task has all its answers) consolidation."""
    annotation_after_submit(annotation_id)


def enqueue_after_submit(annotation_id: int) -> None:
    """The hook annotation calls once a submission has committed: queue the quality work, so the
    submit request never waits for consensus, review sampling or a webhook."""
    after_submit.enqueue(annotation_id)
