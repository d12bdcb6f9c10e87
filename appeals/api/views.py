"""The appeals API (routes in docs/api.md): the caller's own appeals and those they decide,
filing one, deciding one. Same services as the pages; an appeal the caller may not see is 404."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import selectors, services
from appeals.models import COMMENT_LIMIT, REASON_LIMIT, Appeal, AppealStatus, Decision
from labelhub.models import Project
from labelhub.permissions import can_label


class AppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    contributor = serializers.CharField(source="contributor.username")
    subject = serializers.CharField(help_text="rejection or pause")
    annotation = serializers.SerializerMethodField(help_text="The rejected answer (rejections).")
    task = serializers.SerializerMethodField(help_text="Its task (rejections).")
    review_comment = serializers.SerializerMethodField(
        help_text="What the reviewer said when rejecting it (rejections)."
    )
    pause_reason = serializers.CharField(help_text="The pause as it read when appealed (pauses).")
    pause_automatic = serializers.BooleanField()
    comment = serializers.CharField()
    status = serializers.CharField(help_text="open, upheld or reversed")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decision_reason = serializers.CharField()
    filed_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    def get_annotation(self, appeal) -> int | None:
        return appeal.rejection.annotation_id if appeal.rejection_id else None

    def get_task(self, appeal) -> int | None:
        return appeal.rejection.annotation.task_id if appeal.rejection_id else None

    def get_review_comment(self, appeal) -> str | None:
        return appeal.rejection.review.comment if appeal.rejection_id else None


class AppealCreateSerializer(serializers.Serializer):
    annotation = serializers.IntegerField(
        required=False, help_text="Appeal the rejection of this answer of yours."
    )
    project = serializers.IntegerField(
        required=False, help_text="With pause: true, appeal your pause on this project."
    )
    pause = serializers.BooleanField(required=False, default=False)
    comment = serializers.CharField(
        max_length=COMMENT_LIMIT, help_text=f"Why; up to {COMMENT_LIMIT} characters."
    )

    def validate(self, data):
        if "annotation" in data and data.get("pause"):
            raise serializers.ValidationError(
                {"annotation": ["Appeal a rejection (annotation) or a pause, not both at once."]}
            )
        if "annotation" not in data and not data.get("pause"):
            raise serializers.ValidationError(
                {"annotation": ["Give the rejected answer's id, or project and pause: true."]}
            )
        if data.get("pause") and "project" not in data:
            raise serializers.ValidationError({"project": ["The project you are paused on."]})
        return data


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.values)
    reason = serializers.CharField(
        max_length=REASON_LIMIT, help_text="Required; the contributor reads it."
    )


class AppealListView(APIView):
    """The caller's own appeals, and those of the projects they manage (all) or review
    (rejections), newest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("project", int, description="Only this project's appeals."),
            OpenApiParameter("status", str, enum=AppealStatus.values),
        ],
        responses={200: AppealSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        appeals = selectors.appeals_visible(user=request.user)
        project = request.query_params.get("project", "")
        if project:
            if not project.isdigit():
                return Response({"project": ["A project id."]}, status=400)
            appeals = appeals.filter(project_id=int(project))
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in AppealStatus.values:
                return Response({"status": ["open, upheld or reversed."]}, status=400)
            appeals = appeals.filter(status=wanted)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(appeals.order_by("-filed_at", "-pk"), request, self)
        return paginator.get_paginated_response(AppealSerializer(page, many=True).data)

    @extend_schema(
        request=AppealCreateSerializer,
        responses={201: AppealSerializer, 400: OpenApiResponse(description="Field by field.")},
        examples=[
            OpenApiExample(
                "A rejection",
                request_only=True,
                value={"annotation": 812, "comment": "Response B is the better one: see line 2."},
            ),
            OpenApiExample(
                "A pause",
                request_only=True,
                value={"project": 3, "pause": True, "comment": "Two of those checks were unclear."},
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = AppealCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        if given.get("pause"):
            project = Project.objects.filter(pk=given["project"]).first()
            if project is None or not can_label(user=request.user, project=project):
                return Response({"project": ["No such project of yours."]}, status=400)
            appeal = services.appeal_file_pause(
                project=project, user=request.user, comment=given["comment"]
            )
        else:
            appeal = services.appeal_file_rejection(
                annotation_id=given["annotation"], user=request.user, comment=given["comment"]
            )
        appeal = selectors.appeals_visible(user=request.user).get(pk=appeal.pk)
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


def _visible_or_404(*, user, appeal_id: int) -> Appeal:
    appeal = selectors.appeals_visible(user=user).filter(pk=appeal_id).first()
    if appeal is None:
        raise Http404("No such appeal.")
    return appeal


class AppealDetailView(APIView):
    @extend_schema(responses={200: AppealSerializer, 404: OpenApiResponse()})
    def get(self, request: Request, appeal_id: int) -> Response:
        return Response(
            AppealSerializer(_visible_or_404(user=request.user, appeal_id=appeal_id)).data
        )


class AppealDecisionView(APIView):
    """Uphold or reverse an open appeal, with a reason. 403 ``not_yours`` for one's own appeal,
    a reviewer's own rejection, or a reviewer on a pause; 409 ``decided`` once decided."""

    @extend_schema(
        request=DecisionSerializer,
        responses={
            200: AppealSerializer,
            403: OpenApiResponse(),
            404: OpenApiResponse(),
            409: OpenApiResponse(),
        },
    )
    def post(self, request: Request, appeal_id: int) -> Response:
        appeal = _visible_or_404(user=request.user, appeal_id=appeal_id)
        if why := services.may_decide(appeal=appeal, user=request.user):
            raise services.AppealRefusal(why, code="not_yours", status=403)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.appeal_decide(
            appeal_id=appeal.pk,
            project=appeal.project,
            actor=request.user,
            decision=data.validated_data["decision"],
            reason=data.validated_data["reason"],
        )
        return Response(
            AppealSerializer(_visible_or_404(user=request.user, appeal_id=appeal.pk)).data
        )
