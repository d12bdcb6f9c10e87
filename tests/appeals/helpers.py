"""Set-ups of appeal tests: a paid ranking project, an answer rejected by a reviewer."""

from annotation.models import TaskStatus
from quality.models import AnnotationReview
from quality.services import review_record
from tests.pay.helpers import ALWAYS_REVIEW, answer, paid_project
from tests.quality.helpers import make_ranking_tasks


def rejected_answer(capture, *, quality=None, contributors=1, tasks=1, overlap=1):
    """One contributor's answer rejected by the reviewer; returns
    (project, people, reviewer, manager, task, annotation, judgement)."""
    project, people, reviewer, manager = paid_project(
        contributors=contributors, quality=quality or ALWAYS_REVIEW
    )
    made = make_ranking_tasks(project, tasks, overlap=overlap)
    task = made[0]
    annotation = answer(capture, project=project, user=people[0], preference="a")
    for other in people[1:overlap]:
        answer(capture, project=project, user=other, preference="a")
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    review_record(
        task_id=task.pk,
        project=project,
        reviewer=reviewer,
        verdict="reject",
        version=task.outcome.version,
        comment="A misses the question.",
        reject_annotation_ids=[annotation.pk],
    )
    task.refresh_from_db()
    judgement = AnnotationReview.objects.get(annotation=annotation)
    return project, people, reviewer, manager, task, annotation, judgement
