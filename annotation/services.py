"""Writes of tasks one by one, and their rank in the queue. Every write validates through the
project's task kind first. Imports are in :mod:`annotation.imports`, the data manager's actions on
many tasks in :mod:`annotation.bulk`."""

import os
from typing import IO

from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Random
from django.urls import reverse

from annotation.media import read_audio, read_image
from annotation.models import (
    Task,
)
from labelhub.models import Project
from labelhub.quality_bars import quality_with_defaults


def task_media_url(*, task: Task) -> str:
    """Where the browser loads an uploaded file of a task (served only to project members)."""
    return reverse("annotation:task-media", kwargs={"task_id": task.pk})


@transaction.atomic
def task_create_with_media(
    *,
    project: Project,
    media_field: str,
    file: IO[bytes],
    filename: str,
    data: dict | None = None,
    external_id: str = "",
    gold: dict | None = None,
    predictions: list | None = None,
    priority: int = 0,
) -> Task:
    """Create one task from an uploaded image or audio file (read and checked at once).

    Raises :class:`annotation.media.MediaError` for a file LabelHub cannot use.
    """
    kind = project.task_kind
    media_type = kind.media_fields.get(media_field)
    if media_type is None:
        raise ValueError(f"A {kind.label} task has no media field {media_field!r}.")
    info = read_image(file) if media_type == "image" else read_audio(file)
    file.seek(0)
    base = os.path.basename(filename)
    task = Task(
        project=project,
        data=dict(data or {}),
        external_id=external_id,
        is_gold=gold is not None,
        gold=gold,
        predictions=predictions or [],
        priority=priority,
        overlap=quality_with_defaults(project.quality)["overlap"],
        media_meta=info.meta,
    )
    task.media.save(base, File(file), save=False)
    if media_type == "image":
        task.thumbnail.save(
            f"thumb-{os.path.splitext(base)[0]}.jpg", ContentFile(info.thumbnail), save=False
        )
    task.save()
    task.data[media_field] = task_media_url(task=task)
    if media_type == "image":
        task.data.setdefault("width", info.width)
        task.data.setdefault("height", info.height)
    task.data = kind.clean_data(task.data, schema=project.schema)
    if gold is not None:
        task.gold = kind.clean_result(gold, schema=project.schema, data=task.data)
    task.save(update_fields=["data", "gold"])
    return task


@transaction.atomic
def task_create(
    *,
    project: Project,
    data: dict,
    external_id: str = "",
    gold: dict | None = None,
    predictions: list | None = None,
    priority: int = 0,
) -> Task:
    """Create one task whose data needs no file (text, or media given by URL)."""
    kind = project.task_kind
    cleaned = kind.clean_data(data, schema=project.schema)
    if gold is not None:
        gold = kind.clean_result(gold, schema=project.schema, data=cleaned)
    return Task.objects.create(
        project=project,
        data=cleaned,
        external_id=external_id,
        is_gold=gold is not None,
        gold=gold,
        predictions=predictions or [],
        priority=priority,
        overlap=quality_with_defaults(project.quality)["overlap"],
    )


def rank_new_tasks(*, project_id: int) -> None:
    from annotation.tasks import tasks_rank_project  # the background entry point of this service

    tasks_rank_project.enqueue(project_id, only_new=True)


def tasks_rank(*, project_id: int, only_new: bool = False) -> int:
    """Give the project's tasks their ``queue_rank`` for its ``queue_order``; how many changed.

    One UPDATE: 0 in priority order, the prediction score in lowest-score-first (-1 for tasks no
    model scored, so they come first), a random number in random order. ``only_new`` ranks only
    the tasks still at 0 (just imported), so an import does not redraw a random order or rewrite
    a million rows; a change of order ranks them all. Runs in the background (see
    ``annotation.tasks``): until it has, new tasks are handed out as in priority order.
    """
    project = Project.objects.filter(pk=project_id).only("quality").first()
    if project is None:
        return 0
    order = quality_with_defaults(project.quality)["queue_order"]
    if order == "low_score":
        rank = Coalesce(F("prediction_score"), Value(-1.0))
    elif order == "random":
        # Floats in [0, 1) on both engines (SQLite's random() is a 64-bit signed integer).
        rank = (
            Random()
            if connection.vendor == "postgresql"
            else RawSQL("(random() / 18446744073709551616.0 + 0.5)", [])
        )
    else:
        if only_new:
            return 0
        rank = Value(0.0)
    tasks = Task.objects.filter(project_id=project_id)
    if only_new:
        tasks = tasks.filter(queue_rank=0.0)
    with transaction.atomic():
        return tasks.update(queue_rank=rank)
