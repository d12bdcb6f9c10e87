"""Shared set-up of quality tests: a pairwise-ranking project worked through the real queue."""

from annotation import queue
from annotation.models import Task
from labelhub.models import Role
from tests.factories import make_project, make_user


def make_quality_project(*, contributors: int = 3, quality: dict | None = None, **extra):
    people = [make_user(first_name=f"C{i}") for i in range(contributors)]
    reviewer, manager = make_user(), make_user()
    members = dict.fromkeys(people, Role.CONTRIBUTOR) | {
        reviewer: Role.REVIEWER,
        manager: Role.MANAGER,
    }
    project = make_project(kind="ranking", quality=quality, members=members, **extra)
    return project, people, reviewer, manager


def make_ranking_tasks(project, n: int, *, overlap: int = 1, **fields) -> list[Task]:
    data = {"prompt": "Hi?", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
    return [
        Task.objects.create(project=project, data=data, overlap=overlap, **fields) for _ in range(n)
    ]


def answer_next(capture, *, project, user, preference: str, seconds: int = 30):
    """The user claims their next task and answers it; on-commit hooks run as in production."""
    with capture(execute=True):
        assignment = queue.assignment_claim_next(project=project, contributor=user)
        assert assignment is not None, "no task for this contributor"
        submission = queue.annotation_submit(
            assignment_id=assignment.pk,
            contributor=user,
            result={"preference": preference, "strength": 1},
            active_seconds=seconds,
        )
    return submission.annotation
