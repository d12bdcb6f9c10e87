"""Annotation pages and the media they load; the manager's task list and import."""

import json
import mimetypes
import re
from collections import Counter
from collections.abc import Iterator
from typing import IO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from annotation.api.authentication import QueueTokenAuthentication
from annotation.bulk import BULK_LIMIT, TASK_ACTIONS
from annotation.editors import editor_context_for_task
from annotation.events import assignment_notes, refusal_actions
from annotation.forms import ImportForm
from annotation.importing import ImportRejected
from annotation.imports import import_job_create
from annotation.models import Assignment, ImportJob, ImportStatus, Task, TaskStatus
from annotation.queue import (
    QueueRefusal,
    annotation_submit,
    assignment_claim_next,
    assignment_skip,
)
from annotation.selectors import (
    SKIP_REASONS,
    SORTS,
    TaskFilters,
    archived_refusal,
    live_assignment_for,
    media_to_prefetch,
    project_for_contributor,
    skip_reasons_for,
    task_counts_for,
    task_shown_to,
    tasks_for_manager,
    tasks_waiting_for,
    work_progress_for,
)
from annotation.sensitive import content_withheld, sensitive_today
from labelhub.content import content_display, opted_out_anything
from labelhub.models import Project, Role
from labelhub.permissions import can_manage, can_view, project_for, roles_in_order, roles_on
from labelhub.storage import link_seconds, stored_file_link

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


TASK_LIST_TEMPLATE = "annotation/task_list.html"
PAGE_SIZE = 50


def _media_caller(request: HttpRequest):
    """Who asks for a media file: the session's user, or the owner of an API token sent as
    ``Authorization: Token …`` (exports name uploaded media by this URL, for customers' scripts
    to fetch); an unknown token is nobody."""
    if request.user.is_authenticated or "HTTP_AUTHORIZATION" not in request.META:
        return request.user
    try:
        found = QueueTokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


@require_GET
def task_media(request: HttpRequest, task_id: int, thumbnail: bool = False) -> HttpResponse:
    """An uploaded file of a task, to people with a role on its project only (by session, or by
    API token), and not to one who opted out of its content (as if it did not exist)."""
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    caller = _media_caller(request)
    if task is None or caller is None or not can_view(user=caller, project=task.project):
        raise Http404("No such file.")
    if content_withheld(user=caller, task=task):
        raise Http404("No such file.")
    field = task.thumbnail if thumbnail else task.media
    if not field:
        raise Http404("No such file.")
    # In an object store the bytes come from the store by a short-lived link, issued only now
    # that the role is checked; the redirect is kept for less than the link lasts.
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    link = stored_file_link(field, content_type=content_type, cache_seconds=3600)
    if link is not None:
        response = HttpResponseRedirect(link)
        response["Cache-Control"] = f"private, max-age={link_seconds() // 2}"
        return response
    return media_response(request, field)


def _preview_task(request: HttpRequest, project_id: int, task_id: int) -> Task:
    """The task if the caller may review its project (managers may) and did not opt out of its
    content; 404 otherwise."""
    project = project_for(user=request.user, project_id=project_id, action="review")
    task = get_object_or_404(Task, pk=task_id, project=project)
    task.project = project  # keep the role cache of project_for
    if content_withheld(user=request.user, task=task):
        raise Http404("No such task.")
    return task


def _check_result(*, task: Task, raw: str) -> tuple[dict | None, list[tuple[str, list[str]]]]:
    """Parse and validate a result the way a submission will be: (cleaned, errors by path)."""
    try:
        result = json.loads(raw)
    except (ValueError, RecursionError):
        return None, [("result", ["The result is not valid JSON."])]
    project = task.project
    data = project.task_kind.answer_data(data=task.data, result=result)
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
    if initial_result is None and request.GET.get("gold") and task.gold:
        initial_result = task.gold  # changing the gold answer starts from the one it has
    editor = editor_context_for_task(task=task, project=task.project, initial_result=initial_result)
    context = editor.as_template_context(task=task, project=task.project)
    context["check"] = check
    # Managers may save what they drew as the task's gold answer (the data manager's action).
    context["can_save_gold"] = can_manage(user=request.user, project=task.project)
    # Managers may ask a connected model backend (the backends app) about this task.
    backends = getattr(task.project, "model_backends", None)
    context["model_backends"] = (
        list(backends.filter(enabled=True)) if backends and context["can_save_gold"] else []
    )
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


# The contributor's work screen -------------------------------------------------------------
#
# One page per project. GET shows the contributor's live lease (or a start panel) and never
# claims; claiming, submitting and skipping are POSTs that answer with the next task's panel
# (htmx swaps ``#task-panel``) or, without JavaScript, redirect back to the page.


def _work_project(request: HttpRequest, project_id: int) -> Project:
    if not request.user.is_authenticated:
        raise Http404("No such project.")
    return project_for_contributor(user=request.user, project_id=project_id)


def _panel_context(
    request: HttpRequest,
    *,
    project: Project,
    assignment: Assignment | None,
    notice: str = "",
    refusal: str = "",
    started: bool = True,
) -> dict:
    """What ``#task-panel`` shows: a task in its editor, or the state the contributor is in."""
    context: dict = {
        "project": project,
        "assignment": assignment,
        "notice": notice,
        "refusal": refusal,
        "started": started,
        "progress": work_progress_for(project=project, contributor=request.user),
        "skip_reasons": SKIP_REASONS,
        # e.g. "Appeal this pause" under the refusal
        "refusal_actions": refusal_actions(project=project, user=request.user) if refusal else [],
    }
    if assignment is not None:
        task = assignment.task
        # A comparison is blind: the screen never names the models behind what is compared,
        # and shows the candidates in this person's own order (the submit records it).
        task.data = task_shown_to(project=project, task=task, contributor_id=request.user.pk).data
        editor = editor_context_for_task(
            task=task, project=project, initial_result=assignment.draft
        )
        context.update(editor.as_template_context(task=task, project=project))
        context["notes"] = assignment_notes(assignment=assignment)  # e.g. why it came back
        context["prefetch"] = media_to_prefetch(
            project=project, contributor=request.user, current=task
        )
        context.update(_content_context(request, project=project, task=task))
    elif started and not refusal:
        context["opted_out"] = opted_out_anything(
            organization_id=project.organization_id, user_id=request.user.pk
        )
    return context


def _content_context(request: HttpRequest, *, project: Project, task: Task) -> dict:
    """How a sensitive task is shown: its categories in words, whether its images are blurred
    (else its text sits behind a warning), and whether a break is due. Nothing for plain work
    (no query): the break can only be due after sensitive tasks."""
    shown = content_display(project=project, task=task)
    if not shown:
        return {}
    today = sensitive_today(organization=project.organization, user_id=request.user.pk)
    return {**shown, "break_due": today.break_due, "sensitive_today": today}


def _render_panel(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    template = "annotation/work.html"
    if request.htmx:
        template += "#task-panel"
    return render(request, template, context, status=status)


def _claim_next(request: HttpRequest, project: Project) -> tuple[Assignment | None, str]:
    if refusal := archived_refusal(project):
        return None, refusal.message
    try:
        return assignment_claim_next(project=project, contributor=request.user), ""
    except QueueRefusal as refusal:
        return None, refusal.message


@require_GET
@login_required
def work(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _work_project(request, project_id)
    assignment = live_assignment_for(project=project, contributor=request.user)
    refusal = archived_refusal(project)
    context = _panel_context(
        request,
        project=project,
        assignment=assignment,
        started=assignment is not None or refusal is not None,
        refusal=refusal.message if refusal and assignment is None else "",
    )
    return render(request, "annotation/work.html", context)


@require_POST
@login_required
def work_next(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _work_project(request, project_id)
    assignment, refusal = _claim_next(request, project)
    if not request.htmx:
        if refusal:
            messages.warning(request, refusal)
        return redirect("annotation:work", project_id=project.pk)
    return _render_panel(
        request, _panel_context(request, project=project, assignment=assignment, refusal=refusal)
    )


@require_POST
@login_required
def work_submit(request: HttpRequest, project_id: int, assignment_id: int) -> HttpResponse:
    project = _work_project(request, project_id)
    try:
        result = json.loads(request.POST.get("result", ""))
        seconds = round(float(request.POST.get("active_seconds", "0") or 0))
    except (ValueError, RecursionError, OverflowError):
        return _submit_errors(request, [("result", ["The answer could not be read; try again."])])
    try:
        annotation_submit(
            assignment_id=assignment_id,
            contributor=request.user,
            result=result,
            active_seconds=seconds,
        )
    except Assignment.DoesNotExist:
        raise Http404("No such assignment.") from None
    except ValidationError as error:
        return _submit_errors(request, _error_items(error))
    except QueueRefusal as refusal:
        if not request.htmx:
            messages.warning(request, refusal.message)
            return redirect("annotation:work", project_id=project.pk)
        assignment = live_assignment_for(project=project, contributor=request.user)
        context = _panel_context(
            request, project=project, assignment=assignment, notice=refusal.message
        )
        return _render_panel(request, context)
    return _after_done(request, project, notice="Submitted.")


@require_POST
@login_required
def work_skip(request: HttpRequest, project_id: int, assignment_id: int) -> HttpResponse:
    project = _work_project(request, project_id)
    reason = request.POST.get("reason", "")
    if reason not in dict(SKIP_REASONS):
        reason = reason[:200]
    try:
        assignment_skip(assignment_id=assignment_id, contributor=request.user, reason=reason)
    except Assignment.DoesNotExist:
        raise Http404("No such assignment.") from None
    except QueueRefusal as refusal:
        messages.warning(request, refusal.message)
    return _after_done(request, project, notice="Skipped. You will not get this task again.")


def _after_done(request: HttpRequest, project: Project, *, notice: str) -> HttpResponse:
    """Claim the next task at once, so the contributor never waits on an empty screen."""
    assignment, refusal = _claim_next(request, project)
    if not request.htmx:
        messages.success(request, notice)
        if refusal:
            messages.warning(request, refusal)
        return redirect("annotation:work", project_id=project.pk)
    context = _panel_context(
        request, project=project, assignment=assignment, notice=notice, refusal=refusal
    )
    return _render_panel(request, context)


def _error_items(error: ValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(error, "error_dict"):
        return sorted(error.message_dict.items())
    return [("result", error.messages)]


def _submit_errors(request: HttpRequest, errors: list[tuple[str, list[str]]]) -> HttpResponse:
    """422 with what is wrong; htmx shows it beside the Submit button and keeps the editor."""
    response = render(request, "annotation/work.html#submit-errors", {"errors": errors}, status=422)
    response["HX-Retarget"] = "#submit-errors"
    response["HX-Reswap"] = "outerHTML"
    return response


def _picture_of(task, *, field: str | None, full: bool) -> str:
    """The address of a task's picture in the data manager: its thumbnail when the file was
    uploaded; in the grid view (``full``) else the image URL it was given by, which the browser
    loads as the editor does (the table does not fetch 50 full images for a column)."""
    if task.thumbnail:
        return reverse("annotation:task-thumbnail", args=[task.pk])
    value = (task.data or {}).get(field) if field and full else None
    if isinstance(value, str) and value.startswith(("https://", "http://", "/")):
        return value
    return ""


def _task_page(request: HttpRequest, project) -> dict:
    """The data manager's table: the filtered, sorted page of tasks with their figures."""
    filters = TaskFilters.from_query(request.GET)
    tasks = tasks_for_manager(project=project, filters=filters).only(
        "pk", "external_id", "data", "status", "priority", "is_gold", "overlap", "answer_count",
        "lease_count", "created_at", "thumbnail", "predictions",
    )  # fmt: skip
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    reasons = skip_reasons_for(task_ids=[task.pk for task in page.object_list])
    kind = project.task_kind
    grid = request.GET.get("view") == "grid" and bool(kind.thumbnail_field)
    for task in page.object_list:
        task.summary = kind.summary(task.data)
        task.picture = _picture_of(task, field=kind.thumbnail_field, full=grid)
        task.skip_reasons = reasons.get(task.pk, [])
        counted = Counter(task.skip_reasons)
        task.skip_summary = ", ".join(
            f"{reason} ×{n}" if n > 1 else reason for reason, n in counted.most_common()
        )
    query = request.GET.copy()
    query.pop("page", None)
    view = "grid" if grid else "table"
    without_view = query.copy()
    without_view.pop("view", None)
    return {
        "page": page,
        "view": view,
        "has_grid": bool(kind.thumbnail_field),
        "query_without_view": without_view.urlencode(),
        "filters": filters,
        "query": query.urlencode(),
        "statuses": TaskStatus.choices,
        "sorts": SORTS,
        "labels": [label["name"] for label in (project.schema or {}).get("labels", [])],
        "counts": task_counts_for(project=project),
        "bulk_actions": BULK_ACTIONS,
    }


# The data manager's bulk actions, in the order the menu offers them.
BULK_ACTIONS = [
    ("mark_gold", "Mark gold"),
    ("unmark_gold", "Unmark gold"),
    ("requeue", "Re-queue"),
    ("raise_priority", "Raise priority by 10"),
    ("delete", "Delete"),
]


@require_POST
@login_required
def task_bulk(request: HttpRequest, project_id: int) -> HttpResponse:
    """Run one of the data manager's actions on the chosen tasks (or on every task the filter
    matches), through the same services as the API; back to the list with what happened."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    action = request.POST.get("action", "")
    back = request.POST.get("next", "")
    if not back.startswith(f"/projects/{project.pk}/"):
        back = reverse("annotation:task-list", args=[project.pk])
    if action not in TASK_ACTIONS:
        messages.error(request, "Choose what to do with the tasks.")
        return redirect(back)
    if request.POST.get("scope") == "matching":
        filters = TaskFilters.from_query(QueryDict(request.POST.get("filter", "")))
        ids = list(
            tasks_for_manager(project=project, filters=filters).values_list("pk", flat=True)[
                :BULK_LIMIT
            ]
        )
    else:
        ids = [int(pk) for pk in request.POST.getlist("task") if pk.isdigit() and len(pk) < 19]
    if action == "delete" and request.POST.get("confirm") != "delete":
        messages.error(request, "To delete tasks, tick the box that confirms it.")
        return redirect(back)
    extra: dict = {}
    if action == "mark_gold":
        if request.POST.get("result"):
            try:
                extra["result"] = json.loads(request.POST["result"])
            except (ValueError, RecursionError):
                messages.error(request, "The gold answer is not valid JSON.")
                return redirect(back)
        if request.POST.get("annotation", "").isdigit() and len(request.POST["annotation"]) < 19:
            extra["annotation_id"] = int(request.POST["annotation"])
    try:
        outcome = TASK_ACTIONS[action](project=project, task_ids=ids, actor=request.user, **extra)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    (messages.success if outcome.changed else messages.warning)(request, outcome.message)
    if (
        action == "delete"
        and back.startswith(f"/projects/{project.pk}/tasks/")
        and any(back.startswith(f"/projects/{project.pk}/tasks/{pk}/") for pk in outcome.changed)
    ):
        back = reverse("annotation:task-list", args=[project.pk])
    return redirect(back)


@require_GET
@login_required
@vary_on_headers("HX-Request", "HX-Target")  # the page, or (to htmx's filters) the table alone
def task_list(request: HttpRequest, project_id: int) -> HttpResponse:
    """A project's tasks for its managers (the data manager), with the import form."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    context = {
        "project": project,
        "form": ImportForm(kind=project.task_kind),
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
    form = ImportForm(request.POST, kind=project.task_kind)
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
                import_format=form.cleaned_data.get("format") or "",
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
        {"project": project, "form": ImportForm(kind=project.task_kind), "new_job": job},
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


@require_GET
@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    """A project's page: its instructions for everyone on it, the way in for managers, and for
    contributors what the queue could still hand them (which is why it lives here, not in
    labelhub: the page reads the queue)."""
    project = project_for(user=request.user, project_id=project_id, action="view")
    roles = roles_in_order(roles_on(user=request.user, project=project))
    # Real work and gold counted apart, as on the home page, the task list and the dashboard.
    counts = dict(
        project.tasks.filter(is_gold=False)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    context = {
        "project": project,
        "role": " and ".join(roles),
        "is_manager": Role.MANAGER in roles,
        "task_total": sum(counts.values()),
        "task_open": counts.get("open", 0),
    }
    if Role.CONTRIBUTOR in roles:
        context["waiting"] = tasks_waiting_for(user=request.user, project=project)
    if roles != [Role.CONTRIBUTOR]:  # gold is counted for managers and reviewers only
        context["show_figures"] = True
        context["task_gold"] = project.tasks.filter(is_gold=True).count()
    return render(request, "labelhub/project_detail.html", context)
