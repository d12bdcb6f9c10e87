"""Annotation pages and the media they load."""

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from annotation.models import Task
from labelhub.permissions import can_view


@require_GET
def task_media(request: HttpRequest, task_id: int, thumbnail: bool = False) -> FileResponse:
    """An uploaded file of a task, to people with a role on its project only."""
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not can_view(user=request.user, project=task.project):
        raise Http404("No such file.")
    field = task.thumbnail if thumbnail else task.media
    if not field:
        raise Http404("No such file.")
    response = FileResponse(field.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
