"""Writes of tasks. Every write validates through the project's task kind first."""

import os
from typing import IO

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.urls import reverse

from annotation.media import read_audio, read_image
from annotation.models import Task
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
