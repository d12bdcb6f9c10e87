"""The export and webhook-log endpoints of the public API (managers only; 404 for anyone else)."""

from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

import kinds
from annotation.models import DeliveryStatus, WebhookDelivery
from exports.download import export_file_response
from exports.models import ExportJob, ExportStatus
from exports.selectors import (
    ExportOptions,
    results_accepted_since,
    results_committed_since,
    results_feed_in_commit_order,
    results_position_of_time_cursor,
)
from exports.services import (
    DPO_STYLES,
    NothingToWrite,
    StyleRefused,
    UnknownFormat,
    export_formats,
    export_job_create,
    export_record,
    export_stream,
)
from exports.views import base_url_of, streamed
from labelhub.api.cursor import cursor_decode, cursor_encode, fields_of, only_fields, page_size_of
from labelhub.permissions import can_manage, project_for
from labelhub.storage import stored_file_link

NOT_FOUND = OpenApiResponse(description="Not found, or not a project the caller manages.")


def format_help() -> str:
    """The formats of every installed kind, in words (read when the schema is made)."""
    offered = " · ".join(
        f"{kind.name}: {', '.join(fmt.name for fmt in kind.export_formats())}"
        for kind in kinds.registry().values()
        if kind.export_formats()
    )
    return (
        f"{offered} · every kind: audit (every annotation and review, JSONL) and contributors "
        "(who each pseudonymous id is, CSV). Without it, the kind's first format."
    )


class ExportQuery(serializers.Serializer):
    format = serializers.CharField(
        required=False,
        help_text=lazy(format_help, str)(),
    )
    accepted_only = serializers.BooleanField(
        required=False, default=True, help_text="false: also tasks not yet accepted."
    )
    include_gold = serializers.BooleanField(required=False, default=False)
    since = serializers.DateField(required=False, help_text="Results from this day on.")
    until = serializers.DateField(required=False, help_text="Results up to this day.")
    val_split = serializers.FloatField(
        required=False,
        default=0.0,
        min_value=0.0,
        max_value=0.5,
        help_text="yolo and voc: the share of tasks held out for validation (chosen by task, the "
        "same ones every time); 0, the default, is no split.",
    )
    images = serializers.BooleanField(
        required=False,
        default=False,
        help_text="yolo and voc: put the uploaded images in the zip (images given by URL are "
        "listed in images_missing.txt).",
    )
    style = serializers.ChoiceField(
        choices=DPO_STYLES,
        required=False,
        default="auto",
        help_text="dpo only, one for the whole file: conversational (prompt a list of messages, "
        "a text prompt as one user turn; chosen and rejected one assistant message each) or "
        "standard (all text; refused with 400 when a task's chat prompt is more than one user "
        "turn). auto: conversational as soon as any exported task has messages, else standard.",
    )

    def validate(self, data):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise serializers.ValidationError({"until": ["The end is before the start."]})
        return data


class ExportNegotiation(DefaultContentNegotiation):
    """``?format=`` names the dataset format here, not DRF's renderer: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = JSONRenderer()
        return renderer, renderer.media_type


class ExportApi(APIView):
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        operation_id="projects_export",
        summary="Download a dataset of the project's results, streamed (managers)",
        parameters=[ExportQuery],
        responses={
            (200, "application/json"): OpenApiTypes.BINARY,
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            400: PolymorphicProxySerializer(
                component_name="ExportError",
                serializers=[
                    inline_serializer(
                        "ExportFormatError",
                        {
                            "format": serializers.ListField(child=serializers.CharField()),
                            "formats": serializers.ListField(child=serializers.CharField()),
                        },
                    ),
                    inline_serializer(
                        "ExportNothingToWrite",
                        {"detail": serializers.CharField(), "code": serializers.CharField()},
                    ),
                    inline_serializer(
                        "ExportStyleError",
                        {
                            "detail": serializers.CharField(),
                            "code": serializers.CharField(),
                            "task": inline_serializer(
                                "ExportStyleErrorTask",
                                {
                                    "id": serializers.IntegerField(),
                                    "external_id": serializers.CharField(),
                                },
                            ),
                        },
                    ),
                ],
                resource_type_field_name=None,
            ),
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "Unknown format",
                status_codes=["400"],
                response_only=True,
                value={
                    "format": [
                        "Unknown format 'xml' for a bbox project; choose one of: "
                        "coco, yolo, voc, audit, contributors."
                    ],
                    "formats": ["coco", "yolo", "voc", "audit", "contributors"],
                },
            ),
            OpenApiExample(
                "Standard DPO style refused",
                status_codes=["400"],
                response_only=True,
                value={
                    "detail": str(StyleRefused(task_id=42, external_id="chat-42")),
                    "code": StyleRefused.code,
                    "task": {"id": 42, "external_id": "chat-42"},
                },
            ),
        ],
    )
    def get(self, request: Request, project_id: int) -> StreamingHttpResponse | Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        query = ExportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        options = ExportOptions(
            accepted_only=given["accepted_only"],
            include_gold=given["include_gold"],
            since=given.get("since"),
            until=given.get("until"),
            style=given["style"],
            val_split=given["val_split"],
            images=given["images"],
            base_url=base_url_of(request),
        )
        try:
            format_name = given.get("format") or export_formats(project=project)[0].name
            export = export_stream(project=project, format_name=format_name, options=options)
        except UnknownFormat as error:
            return Response(
                {"format": [str(error)], "formats": error.available},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except StyleRefused as error:
            return Response(
                {
                    "detail": str(error),
                    "code": error.code,
                    "task": {"id": error.task_id, "external_id": error.external_id},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        except NothingToWrite as error:
            return Response(
                {"detail": str(error), "code": error.code}, status=status.HTTP_400_BAD_REQUEST
            )
        event = export_record(
            project=project,
            user=request.user,
            format_name=export.format.name,
            options=options,
            via="api",
        )
        return streamed(export.named(project=project, serial=f"d{event.pk}"))


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "task",
            "event",
            "url",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
        ]


class WebhookDeliveryListApi(APIView):
    @extend_schema(
        operation_id="projects_webhooks_list",
        summary="The project's webhook delivery log, newest first (managers)",
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values),
            OpenApiParameter("page", int),
        ],
        responses={200: DeliveryOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        deliveries = WebhookDelivery.objects.filter(project=project)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in DeliveryStatus.values:
                return Response(
                    {"status": [f"Choose one of: {', '.join(DeliveryStatus.values)}."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            deliveries = deliveries.filter(status=wanted)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliveryOutput(page, many=True).data)


NOT_OUR_CURSOR = "This cursor is not one this listing gave out."


def results_settle_seconds() -> float:
    """How old an acceptance must be before the feed hands it out (see
    :func:`exports.selectors.results_accepted_since`)."""
    return float(getattr(settings, "LABELHUB_RESULTS_SETTLE_SECONDS", 5))


class ResultFeedItem(serializers.Serializer):
    task = serializers.IntegerField()
    external_id = serializers.CharField()
    data = serializers.JSONField(help_text="Only when asked for with `fields`.")
    result = serializers.JSONField(help_text="The accepted result, in the kind's shape.")
    accepted_at = serializers.DateTimeField()


class ResultFeedOutput(serializers.Serializer):
    results = ResultFeedItem(many=True)
    cursor = serializers.CharField(
        allow_null=True,
        help_text="Store it and send it as `since` next time: only results accepted after the "
        "last one here come back. Null only while nothing was ever handed out.",
    )
    next = serializers.URLField(allow_null=True, help_text="The next page, while there is more.")


RESULT_FIELDS = ["task", "external_id", "data", "result", "accepted_at"]
RESULT_DEFAULT_FIELDS = ["task", "external_id", "result", "accepted_at"]


class ResultFeedApi(APIView):
    @extend_schema(
        operation_id="projects_results_list",
        summary="Accepted results, incrementally: those accepted after the `since` cursor",
        description=(
            "Results in the order they were accepted. Keep the answer's `cursor` and send it as "
            "`since` next time to get only what was accepted since (a task accepted again, after "
            "a requeue or an appeal, comes again with its new result). On PostgreSQL the order "
            "is the order of the accepting transactions, and an acceptance waits while an older "
            "transaction of the database is still open, so one that commits late is never "
            "skipped (API 1.2; a cursor from 1.1 goes on where it was). On SQLite acceptances "
            "of the last few seconds (`LABELHUB_RESULTS_SETTLE_SECONDS`, 5) wait for the next "
            "call. Gold tasks are not in the feed."
        ),
        parameters=[
            OpenApiParameter("since", str, description="A `cursor` from an earlier answer."),
            OpenApiParameter("page_size", int, description="Up to 1000 (100)."),
            OpenApiParameter(
                "fields",
                str,
                description=f"Keys of each result, from {', '.join(RESULT_FIELDS)} "
                f"(default {','.join(RESULT_DEFAULT_FIELDS)}).",
            ),
        ],
        responses={200: ResultFeedOutput, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        since = request.query_params.get("since", "")
        size = page_size_of(request)
        fields = fields_of(request, allowed=RESULT_FIELDS) or RESULT_DEFAULT_FIELDS
        if results_feed_in_commit_order():
            rows = results_committed_since(
                project=project,
                after=_commit_position(since, project=project),
                limit=size + 1,
                with_data="data" in fields,
            )
        else:
            rows = results_accepted_since(
                project=project,
                after=_time_position(since),
                settled_before=timezone.now() - timedelta(seconds=results_settle_seconds()),
                limit=size + 1,
                with_data="data" in fields,
            )
        more = len(rows) > size
        rows = rows[:size]
        cursor = since or None
        if rows:
            last = rows[-1]
            if last.accepted_xid is not None:
                cursor = cursor_encode({"x": last.accepted_xid, "task": last.task})
            else:
                cursor = cursor_encode({"at": last.accepted_at.isoformat(), "task": last.task})
        next_url = None
        if more:
            next_url = replace_query_param(request.build_absolute_uri(), "since", cursor)
        items = ResultFeedItem([asdict(row) for row in rows], many=True).data
        return Response({"results": only_fields(items, fields), "cursor": cursor, "next": next_url})


def _time_position(since: str) -> tuple[datetime, int] | None:
    """A cursor by acceptance time (API 1.1, and SQLite): ``{"at", "task"}``."""
    position = cursor_decode(since, keys=["at", "task"], name="since")
    if position is None:
        return None
    try:
        return datetime.fromisoformat(position["at"]), int(position["task"])
    except (TypeError, ValueError):
        raise ValidationError({"since": [NOT_OUR_CURSOR]}) from None


def _commit_position(since: str, *, project) -> tuple[int, int] | None:
    """A cursor in commit order (``{"x", "task"}``, API 1.2); one by time from before goes on
    from its place (at least once)."""
    try:
        position = cursor_decode(since, keys=["x", "task"], name="since")
    except ValidationError:
        after = _time_position(since)  # not None: an empty cursor decodes above
        return results_position_of_time_cursor(project=project, after=after) if after else None
    if position is None:
        return None
    try:
        return int(position["x"]), int(position["task"])
    except (TypeError, ValueError):
        raise ValidationError({"since": [NOT_OUR_CURSOR]}) from None


class ExportJobOutput(serializers.ModelSerializer):
    size = serializers.SerializerMethodField(help_text="Bytes of the file, once it is written.")
    download_url = serializers.SerializerMethodField(
        help_text="The file, once done: supports `Range` (206) and `If-Range` to resume."
    )

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "project",
            "format",
            "options",
            "status",
            "total",
            "processed",
            "filename",
            "content_type",
            "size",
            "error",
            "download_url",
            "created_at",
            "finished_at",
        ]

    def get_size(self, job: ExportJob) -> int | None:
        if job.status != ExportStatus.DONE or not job.file:
            return None
        try:
            return job.file.size
        except OSError:
            return None

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.DONE or not job.file:
            return None
        request = self.context.get("request")
        path = reverse("api-export-download", kwargs={"export_id": job.pk})
        return request.build_absolute_uri(path) if request else path


class ExportJobInput(ExportQuery):
    format = serializers.CharField(required=False, help_text=lazy(format_help, str)())


class ExportJobListApi(APIView):
    @extend_schema(
        operation_id="projects_exports_list",
        summary="The project's export jobs, newest first (managers)",
        responses={200: ExportJobOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        jobs = ExportJob.objects.filter(project=project)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(
            ExportJobOutput(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="projects_exports_create",
        summary="Start an export in the background (managers): follow it, then download its file",
        description=(
            "The same formats and options as `GET …/export/`, as a job: `202` with its progress "
            "(`total`, `processed`); `GET /api/v1/exports/{id}/` follows it; once `done`, "
            "`download_url` serves the file with HTTP ranges, so a broken download resumes."
        ),
        request=ExportJobInput,
        responses={202: ExportJobOutput, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given_input = ExportJobInput(data=request.data)
        given_input.is_valid(raise_exception=True)
        given = given_input.validated_data
        options = ExportOptions(
            accepted_only=given["accepted_only"],
            include_gold=given["include_gold"],
            since=given.get("since"),
            until=given.get("until"),
            style=given["style"],
            val_split=given["val_split"],
            images=given["images"],
            base_url=base_url_of(request),
        )
        try:
            format_name = given.get("format") or export_formats(project=project)[0].name
            job = export_job_create(
                project=project, user=request.user, format_name=format_name, options=options
            )
        except UnknownFormat as error:
            return Response(
                {"format": [str(error)], "formats": error.available},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except (StyleRefused, NothingToWrite) as error:
            return Response(
                {"detail": str(error), "code": error.code}, status=status.HTTP_400_BAD_REQUEST
            )
        job.refresh_from_db()  # an immediate backend has run it already
        return Response(
            ExportJobOutput(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


def export_job_for(request: Request, export_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("project").filter(pk=export_id).first()
    if job is None or not can_manage(user=request.user, project=job.project):
        raise Http404("No such export.")
    return job


class ExportJobDetailApi(APIView):
    @extend_schema(
        operation_id="exports_retrieve",
        summary="Progress and outcome of an export job (managers)",
        responses={200: ExportJobOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, export_id: int) -> Response:
        job = export_job_for(request, export_id)
        return Response(ExportJobOutput(job, context={"request": request}).data)


class ExportJobDownloadApi(APIView):
    content_negotiation_class = ExportNegotiation

    @extend_schema(
        operation_id="exports_download",
        summary="The file of a finished export, resumable with HTTP ranges (managers)",
        description=(
            "`Range: bytes=N-` answers `206` with `Content-Range` and the rest of the file; "
            "`If-Range: <ETag>` makes it conditional. From an object store (S3) the answer is a "
            "`302` to a short-lived link of the store, which serves ranges itself."
        ),
        parameters=[
            OpenApiParameter("Range", str, location=OpenApiParameter.HEADER, required=False),
            OpenApiParameter("If-Range", str, location=OpenApiParameter.HEADER, required=False),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (206, "application/octet-stream"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="From an object store: its short-lived link."),
            404: NOT_FOUND,
            416: OpenApiResponse(description="The range starts past the end of the file."),
        },
    )
    def get(self, request: Request, export_id: int) -> HttpResponse:
        job = export_job_for(request, export_id)
        if job.status != ExportStatus.DONE or not job.file:
            return Response(
                {"detail": f"This export is {job.status}: it has no file yet.", "code": "not_done"},
                status=status.HTTP_409_CONFLICT,
            )
        link = stored_file_link(job.file, content_type=job.content_type, download_as=job.filename)
        if link is not None:  # the object store serves ranges and ETags itself
            response = HttpResponseRedirect(link)
            response["Cache-Control"] = "private, no-store"
            return response
        return export_file_response(request, job)
