"""The export and webhook-log endpoints of the public API (managers only; 404 for anyone else)."""

from django.http import StreamingHttpResponse
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
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import kinds
from annotation.models import DeliveryStatus, WebhookDelivery
from exports.selectors import ExportOptions
from exports.services import (
    DPO_STYLES,
    NothingToWrite,
    StyleRefused,
    UnknownFormat,
    export_formats,
    export_record,
    export_stream,
)
from exports.views import base_url_of, streamed
from labelhub.permissions import project_for

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
