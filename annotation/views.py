"""Annotation pages and the media they load; the manager's task list and import."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotation.forms import ImportForm
from annotation.importing import ImportRejected
from annotation.models import ImportJob, ImportStatus, Task, TaskStatus
from annotation.services import import_job_create
from labelhub.permissions import can_view, project_for

TASK_LIST_TEMPLATE = "annotation/task_list.html"
PAGE_SIZE = 50


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


def _task_page(request: HttpRequest, project) -> dict:
    status = request.GET.get("status", "")
    tasks = Task.objects.filter(project=project).order_by("-pk")
    if status in TaskStatus.values:
        tasks = tasks.filter(status=status)
    tasks = tasks.only(
        "pk", "external_id", "data", "status", "priority", "is_gold", "overlap", "answer_count",
        "created_at", "thumbnail",
    )  # fmt: skip
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "status": status, "statuses": TaskStatus.choices}


@require_GET
@login_required
def task_list(request: HttpRequest, project_id: int) -> HttpResponse:
    """A project's tasks for its managers, with the import form and the latest imports."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    context = {
        "project": project,
        "form": ImportForm(),
        "imports": ImportJob.objects.filter(project=project)[:5],
        **_task_page(request, project),
    }
    template = TASK_LIST_TEMPLATE
    if request.htmx and request.htmx.target == "task-table":
        template += "#task-table"
    return render(request, template, context)


@require_POST
@login_required
def task_import(request: HttpRequest, project_id: int) -> HttpResponse:
    """Queue an import of the uploaded files; the page then follows its progress."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    form = ImportForm(request.POST)
    files = [(upload.name, upload) for upload in request.FILES.getlist("files")]
    problems: list[str] = []
    job = None
    if form.is_valid():
        try:
            job = import_job_create(
                project=project,
                user=request.user,
                files=files,
                coco_use=form.cleaned_data.get("coco") or "",
            )
        except ImportRejected as rejected:
            problems = rejected.messages
    if job is None:
        context = {"project": project, "form": form, "problems": problems}
        if request.htmx:
            return render(request, f"{TASK_LIST_TEMPLATE}#import-form", context, status=422)
        context.update(imports=ImportJob.objects.filter(project=project)[:5])
        context.update(_task_page(request, project))
        return render(request, TASK_LIST_TEMPLATE, context, status=422)
    if not request.htmx:
        return redirect("annotation:task-list", project_id=project.pk)
    job.refresh_from_db()
    response = render(
        request,
        f"{TASK_LIST_TEMPLATE}#import-form",
        {"project": project, "form": ImportForm(), "new_job": job},
    )
    if job.status == ImportStatus.DONE:
        response["HX-Trigger"] = "tasks-changed"
    return response


@require_GET
@login_required
def import_status(request: HttpRequest, project_id: int, import_id: int) -> HttpResponse:
    """One import's progress (polled by the page while it runs)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    job = get_object_or_404(ImportJob, pk=import_id, project=project)
    response = render(
        request, f"{TASK_LIST_TEMPLATE}#import-status", {"project": project, "job": job}
    )
    if job.status == ImportStatus.DONE and request.GET.get("polling"):
        response["HX-Trigger"] = "tasks-changed"
    return response
