"""Shared set-up of queue tests: a project of the test kind with contributors and tasks."""

from annotation.models import Task
from labelhub.models import Role
from tests.factories import make_project, make_user


def make_queue_project(*, contributors: int = 2, quality: dict | None = None):
    people = [make_user() for _ in range(contributors)]
    project = make_project(
        kind="exact", quality=quality, members=dict.fromkeys(people, Role.CONTRIBUTOR)
    )
    return project, people


def make_tasks(project, n: int, *, overlap: int = 1, priority: int = 0) -> list[Task]:
    return [
        Task.objects.create(project=project, data={"n": i}, overlap=overlap, priority=priority)
        for i in range(n)
    ]


def make_gold(project, n: int, *, label: str = "cat") -> list[Task]:
    return [
        Task.objects.create(project=project, data={"g": i}, is_gold=True, gold={"label": label})
        for i in range(n)
    ]
