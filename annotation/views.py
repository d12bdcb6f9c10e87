"""Annotation pages and the media they load."""

import json
import mimetypes
import re
from collections.abc import Iterator
from typing import IO

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from annotation.editors import editor_context_for_task
from annotation.models import Task
from labelhub.permissions import can_view, project_for

BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _read_span(file: IO[bytes], length: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while length > 0:
            data = file.read(min(chunk, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        file.close()


def media_response(request: HttpRequest, field: FieldFile) -> HttpResponse:
    """A stored file, whole or the one byte range asked for (audio seeking needs ranges)."""
    size = field.size
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    match = BYTE_RANGE.match(request.headers.get("Range", "").strip())
    if match and (match[1] or match[2]):
        if match[1]:
            start, end = int(match[1]), int(match[2]) if match[2] else size - 1
        else:
            start, end = max(size - int(match[2]), 0), size - 1
        end = min(end, size - 1)
        if start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        file = field.open("rb")
        file.seek(start)
        response = StreamingHttpResponse(
            _read_span(file, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(field.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def task_media(request: HttpRequest, task_id: int, thumbnail: bool = False) -> HttpResponse:
    """An uploaded file of a task, to people with a role on its project only."""
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not can_view(user=request.user, project=task.project):
        raise Http404("No such file.")
    field = task.thumbnail if thumbnail else task.media
    if not field:
        raise Http404("No such file.")
    return media_response(request, field)


def _preview_task(request: HttpRequest, project_id: int, task_id: int) -> Task:
    """The task if the caller may review its project (managers may); 404 otherwise."""
    project = project_for(user=request.user, project_id=project_id, action="review")
    task = get_object_or_404(Task, pk=task_id, project=project)
    task.project = project  # keep the role cache of project_for
    return task


def _check_result(*, task: Task, raw: str) -> tuple[dict | None, list[tuple[str, list[str]]]]:
    """Parse and validate a result the way a submission will be: (cleaned, errors by path)."""
    try:
        result = json.loads(raw)
    except ValueError:
        return None, [("result", ["The result is not valid JSON."])]
    project = task.project
    data = task.data
    if isinstance(result, dict) and project.kind == "bbox":
        # For an image given by URL the editor reports the natural size with the answer.
        sizes = {k: result[k] for k in ("width", "height") if k in result and k not in data}
        data = {**data, **sizes}
    try:
        cleaned = project.task_kind.clean_result(result, schema=project.schema, data=data)
    except ValidationError as error:
        messages = (
            sorted(error.message_dict.items())
            if hasattr(error, "error_dict")
            else [("result", error.messages)]
        )
        return None, messages
    return cleaned, []


def _preview_page(
    request: HttpRequest, task: Task, *, initial_result: dict | None = None, check=None
) -> HttpResponse:
    editor = editor_context_for_task(task=task, project=task.project, initial_result=initial_result)
    context = editor.as_template_context(task=task, project=task.project)
    context["check"] = check
    return render(request, "annotation/task_preview.html", context)


@require_GET
@login_required
def task_preview(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    """A task in its kind's editor, starting from its first prediction: for managers and reviewers.

    Nothing is saved; the result and the server's verdict on it are shown live beside the editor.
    """
    return _preview_page(request, _preview_task(request, project_id, task_id))


@require_POST
@login_required
def task_preview_check(request: HttpRequest, project_id: int, task_id: int) -> HttpResponse:
    """Validate a result with the project's task kind; the ``check-result`` partial for htmx.

    The answer is 200 whether the result is valid or not: the check itself succeeded, and a
    result that is not finished yet is the normal state of an editor (a 422 here would be a
    console error on every keystroke). Without JavaScript the whole preview page comes back,
    starting from the result that was checked when it is valid.
    """
    task = _preview_task(request, project_id, task_id)
    cleaned, errors = _check_result(task=task, raw=request.POST.get("result", ""))
    check = {"valid": cleaned is not None, "errors": errors, "cleaned": cleaned}
    if getattr(request, "htmx", False):
        return render(request, "annotation/task_preview.html#check-result", {"check": check})
    return _preview_page(request, task, initial_result=cleaned, check=check)
