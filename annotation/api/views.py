"""The annotation API: tasks, imports, and the queue (next task, draft, submit, skip).

Thin: each view checks access, calls one service and shapes the answer; one class per endpoint,
each with its own serializers. Queue refusals (paused, disqualified, lease lost, conflicts) are JSON
``{detail, code}`` with 403 or 409; invalid answers are 400 with one entry per field path
(``result.boxes.0.x``)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import queue
from annotation.api.authentication import (
    ContributorProjectRead,
    QueueTokenAuthentication,
    contributor_project,
)
from annotation.api.serializers import (
    AssignmentSerializer,
    DraftInputSerializer,
    ImportCreatedOutput,
    ImportJobOutput,
    ImportRejectedOutput,
    NextTaskSerializer,
    RefusalSerializer,
    SkipInputSerializer,
    SubmissionSerializer,
    SubmitInputSerializer,
    TaskBulkInput,
    TaskBulkOutput,
    TaskContributorOutput,
    TaskFilterInput,
    TaskInput,
    TaskManagerListOutput,
    TaskManagerOutput,
    TaskOutput,
    TaskReviewerListOutput,
    TaskUploadInput,
    next_task_answer,
)
from annotation.bulk import TASK_ACTIONS
from annotation.importing import ImportRejected, rows_from_items
from annotation.imports import import_job_create, tasks_import
from annotation.models import Assignment, ImportJob, Task
from annotation.selectors import (
    TaskFilters,
    archived_refusal,
    tasks_for_manager,
)
from labelhub.api import examples
from labelhub.api.cursor import (
    CursorPage,
    cursor_decode,
    cursor_encode,
    cursor_requested,
    fields_of,
    only_fields,
    page_size_of,
)
from labelhub.api.parsers import SafeJSONParser
from labelhub.content import tasks_not_opted_out
from labelhub.permissions import can_manage, can_review, project_for


class QueueView(APIView):
    """The queue's endpoints: token auth in one query, or the browser's session."""

    authentication_classes = [QueueTokenAuthentication, SessionAuthentication]


def result_errors(error: ValidationError) -> dict[str, list[str]]:
    """A kind's path-keyed errors, rooted at ``result`` once (kinds write some paths from the
    result's root, ``result.turns.0.scores``, and some inside it, ``turns.0``)."""
    if not hasattr(error, "error_dict"):
        return {"result": list(error.messages)}
    rooted: dict[str, list[str]] = {}
    for path, messages in error.message_dict.items():
        if path == "__all__":
            path = "result"
        elif path != "result" and not path.startswith("result."):
            path = f"result.{path}"
        rooted.setdefault(path, []).extend(messages)
    return rooted


class NextTaskView(QueueView):
    token_also_reads = ContributorProjectRead()  # the project, in the token's statement

    @extend_schema(
        examples=examples.NEXT_TASK,
        request=None,
        responses={
            200: NextTaskSerializer,
            204: OpenApiResponse(description="No task for you right now."),
            403: RefusalSerializer,
            409: OpenApiResponse(
                RefusalSerializer, description="`project_archived`: the project is archived."
            ),
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = contributor_project(request, project_id)
        if refusal := archived_refusal(project):
            raise refusal
        assignment = queue.assignment_claim_next(project=project, contributor=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        assignment.task.project = project  # the data is blinded by the project's kind
        return Response(next_task_answer(assignment, contributor_id=request.user.pk))


class DraftView(QueueView):
    @extend_schema(
        examples=examples.DRAFT, request=DraftInputSerializer, responses={200: AssignmentSerializer}
    )
    def put(self, request: Request, assignment_id: int) -> Response:
        data = _valid(DraftInputSerializer, request)
        try:
            assignment = queue.assignment_save_draft(
                assignment_id=assignment_id,
                contributor=request.user,
                result=data["result"],
                version=data.get("version"),
            )
        except Assignment.DoesNotExist:
            raise Http404("No such assignment.") from None
        return Response(AssignmentSerializer(assignment).data)


class SubmitView(QueueView):
    @extend_schema(
        examples=examples.SUBMIT,
        request=SubmitInputSerializer,
        responses={200: SubmissionSerializer, 201: SubmissionSerializer, 409: RefusalSerializer},
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        data = _valid(SubmitInputSerializer, request)
        try:
            submission = queue.annotation_submit(
                assignment_id=assignment_id,
                contributor=request.user,
                result=data["result"],
                active_seconds=data["active_seconds"],
            )
        except Assignment.DoesNotExist:
            raise Http404("No such assignment.") from None
        except ValidationError as error:
            return Response(result_errors(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            SubmissionSerializer(submission).data,
            status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK,
        )


class SkipView(QueueView):
    @extend_schema(
        examples=examples.SKIP, request=SkipInputSerializer, responses={200: AssignmentSerializer}
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        data = _valid(SkipInputSerializer, request)
        try:
            assignment = queue.assignment_skip(
                assignment_id=assignment_id, contributor=request.user, reason=data["reason"]
            )
        except Assignment.DoesNotExist:
            raise Http404("No such assignment.") from None
        return Response(AssignmentSerializer(assignment).data)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


NOT_FOUND = OpenApiResponse(description="Not found, or not in one of the caller's projects.")


def sync_limit() -> int:
    """JSON lists up to this many tasks are created within the request; bigger ones are queued."""
    return getattr(settings, "LABELHUB_IMPORT_SYNC_LIMIT", 1000)


def rejected_response(rejected: ImportRejected) -> Response:
    return Response(
        {
            "detail": "Nothing was imported: fix these problems and send the tasks again.",
            "problems": [problem.as_dict() for problem in rejected.problems],
            "problem_count": rejected.total_problems,
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class TaskPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class ImportFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` names the format of the imported rows here, not DRF's renderer."""

    settings = _NoFormatOverride


class ProjectTaskListApi(APIView):
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]
    content_negotiation_class = ImportFormatNegotiation

    @extend_schema(
        operation_id="projects_tasks_list",
        summary="A project's tasks, oldest first (gold answers only for managers)",
        parameters=[
            TaskFilterInput,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="Up to 1000."),
            OpenApiParameter(
                "cursor",
                str,
                description="Cursor pages (keyset on id, as fast at any depth): empty for the "
                "first page, then the `cursor` of the page before. The answer is then "
                "`{next, cursor, results}` (no count); without it, page-number pages as before.",
            ),
            OpenApiParameter(
                "fields",
                str,
                description="Only these keys of each task, comma-separated: "
                "`id,external_id,status`.",
            ),
        ],
        responses={
            200: TaskManagerListOutput(many=True),
            400: OpenApiResponse(),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="view")
        filters = TaskFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        if can_review(user=request.user, project=project):
            tasks = tasks_for_manager(project=project, filters=_manager_filters(given))
            if not can_manage(user=request.user, project=project):
                tasks = tasks_not_opted_out(tasks, project=project, user=request.user)
        else:
            # Contributors list what they may label; filters on status or external id would
            # single out gold tasks (they stay open), so they do not apply, nor do the data
            # manager's (gold, skips, agreement…).
            tasks = Task.objects.filter(project=project).order_by("pk")
            tasks = tasks_not_opted_out(tasks, project=project, user=request.user)
            given = {k: v for k, v in given.items() if k in ("created_after", "created_before")}
        if "contributor" in given:
            tasks = tasks.filter(annotations__contributor__username=given["contributor"])
        if "status" in given:
            tasks = tasks.filter(status=given["status"])
        if "external_id" in given:
            tasks = tasks.filter(external_id=given["external_id"])
        if "created_after" in given:
            tasks = tasks.filter(created_at__gte=given["created_after"])
        if "created_before" in given:
            tasks = tasks.filter(created_at__lt=given["created_before"])
        output = task_list_output_for(request, project)
        fields = fields_of(request, allowed=output().fields)
        if cursor_requested(request):
            if given.get("sort", "id") != "id":
                raise ApiValidationError(
                    {"sort": ["Cursor pages are in id order: leave sort out."]}
                )
            return Response(task_cursor_page(request, tasks, output, fields).response_data(request))
        paginator = TaskPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        data = only_fields(output(page, many=True).data, fields)
        return paginator.get_paginated_response(data)

    @extend_schema(
        examples=examples.TASKS_CREATE,
        operation_id="projects_tasks_create",
        summary="Import tasks: a JSON list, or files (managers)",
        description=(
            "A JSON list of up to 1000 tasks is created at once (201). Bigger lists and every file "
            "upload are queued (202): follow the import with `GET /api/v1/imports/{id}/`. "
            "A task whose `external_id` exists already is updated, never duplicated. "
            "If any task is invalid, nothing is imported (400, with each problem by row and "
            "field). "
            "`?format=` names the format of the rows among those the project's kind reads "
            "(agent trajectories: `openai`, `anthropic`, `openai_agents`, `otel`, `atif`, "
            "`swe_agent`, `steps`); without it each row's format is detected."
        ),
        parameters=[OpenApiParameter("format", str, description="The rows' format (optional).")],
        request={
            "application/json": TaskInput(many=True),
            "multipart/form-data": TaskUploadInput,
        },
        responses={
            201: ImportCreatedOutput,
            202: ImportJobOutput,
            400: ImportRejectedOutput,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = request.query_params.get("format")
        if not given and hasattr(request.data, "get"):
            given = request.data.get("format")
        import_format = str(given or "")
        try:
            if request.content_type.startswith("application/json"):
                items = request.data
                if not isinstance(items, list):
                    return Response(
                        {"detail": "Send a JSON list of tasks, or files as multipart 'file'."},
                        status=status.HTTP_400_BAD_REQUEST,
                    )
                if len(items) <= sync_limit():
                    rows = rows_from_items(items, label="item")
                    outcome = tasks_import(project=project, rows=rows, import_format=import_format)
                    return Response(
                        {
                            "created": outcome.created,
                            "updated": outcome.updated,
                            "total": outcome.total,
                        },
                        status=status.HTTP_201_CREATED,
                    )
                job = import_job_create(
                    project=project, user=request.user, items=items, import_format=import_format
                )
            else:
                files = [(file.name, file) for file in request.FILES.getlist("file")]
                job = import_job_create(
                    project=project,
                    user=request.user,
                    files=files,
                    coco_use=str(request.data.get("coco", "")),
                    import_format=import_format,
                )
        except ImportRejected as rejected:
            return rejected_response(rejected)
        job.refresh_from_db()  # an immediate backend has run it already
        return Response(ImportJobOutput(job).data, status=status.HTTP_202_ACCEPTED)


# Fields read straight from the task's row: a cursor page of only these skips the serializer.
TASK_COLUMNS = frozenset(
    {
        "id",
        "project",
        "external_id",
        "data",
        "predictions",
        "status",
        "priority",
        "overlap",
        "answer_count",
        "callback_url",
        "media_meta",
        "created_at",
        "updated_at",
        "is_gold",
        "gold",
    }
)


def task_cursor_page(request: Request, tasks, output: type, fields: list[str] | None) -> CursorPage:
    """A keyset page of ``tasks`` in id order: ``id > last id`` on the primary key's index."""
    position = cursor_decode(request.query_params["cursor"], keys=["after"])
    size = page_size_of(request)
    tasks = tasks.order_by("pk")
    if position is not None:
        tasks = tasks.filter(pk__gt=int(position["after"]))
    if fields is not None and set(fields) <= TASK_COLUMNS:
        rows = list(tasks.values(*{"id", *fields})[: size + 1])
        items = only_fields(rows, fields)
        ids = [row["id"] for row in rows]
    else:
        page = list(tasks[: size + 1])
        items = only_fields(output(page, many=True).data, fields)
        ids = [task.pk for task in page]
    more = len(ids) > size
    cursor = cursor_encode({"after": ids[size - 1]}) if more else None
    return CursorPage(results=items[:size], cursor=cursor)


def task_output_for(request: Request, project) -> type:
    """Managers see gold; reviewers see the task's state; contributors only what they label."""
    if can_manage(user=request.user, project=project):
        return TaskManagerOutput
    if can_review(user=request.user, project=project):
        return TaskOutput
    return TaskContributorOutput


def task_list_output_for(request: Request, project) -> type:
    """The same choice for the list, which adds the data manager's figures for reviewers up."""
    if can_manage(user=request.user, project=project):
        return TaskManagerListOutput
    if can_review(user=request.user, project=project):
        return TaskReviewerListOutput
    return TaskContributorOutput


def _manager_filters(given: dict) -> TaskFilters:
    """The API's filter parameters as the data manager's filters (status and the rest of the
    original filters are applied as they always were, gold tasks included)."""
    status = "attention" if given.get("needs_attention") else ""
    return TaskFilters(
        q=given.get("q", ""),
        status=status,
        gold=given.get("gold"),
        skipped=given.get("skipped"),
        label=given.get("label", ""),
        agreement_min=given.get("agreement_min"),
        agreement_max=given.get("agreement_max"),
        prediction=given.get("has_prediction"),
        sort=given.get("sort", "id"),
    )


class ProjectTaskBulkApi(APIView):
    @extend_schema(
        operation_id="projects_tasks_bulk",
        summary="One action on many tasks (managers): gold, re-queue, priority, delete",
        description=(
            "`mark_gold` takes each task's accepted answer, else its consensus, else its only "
            "answer, or, for one task, `result` (typed) or `annotation` (one of its answers); "
            "`unmark_gold` makes them normal work again (keeping their answers); `requeue` opens "
            "a task for one more answer and to the people who skipped it or let it expire; "
            "`raise_priority` adds `by` (10); `delete` removes the tasks and their answers. "
            "All in one transaction, audit-logged; tasks left alone are listed with the reason."
        ),
        request=TaskBulkInput,
        responses={200: TaskBulkOutput, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = _valid(TaskBulkInput, request)
        extra: dict = {}
        if given["action"] == "raise_priority" and "by" in given:
            extra["by"] = given["by"]
        if given["action"] == "mark_gold":
            if "result" in given:
                extra["result"] = given["result"]
            if "annotation" in given:
                extra["annotation_id"] = given["annotation"]
        outcome = TASK_ACTIONS[given["action"]](
            project=project, task_ids=given["tasks"], actor=request.user, **extra
        )
        return Response(
            {
                "action": outcome.action,
                "changed": outcome.changed,
                "skipped": {str(pk): why for pk, why in sorted(outcome.skipped.items())},
                "message": outcome.message,
            }
        )


class ImportDetailApi(APIView):
    @extend_schema(
        operation_id="imports_retrieve",
        summary="Progress and outcome of an import (managers)",
        responses={200: ImportJobOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, import_id: int) -> Response:
        job = ImportJob.objects.select_related("project").filter(pk=import_id).first()
        if job is None or not can_manage(user=request.user, project=job.project):
            raise Http404("No such import.")
        return Response(ImportJobOutput(job).data)
