"""``/api/v1/projects/{id}/backends/``: a project's model backends (managers only; 404 else)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import Task
from backends import protocol
from backends.measure import pending_measure, version_summary
from backends.models import ModelBackend
from backends.services import KEEP, RunView, backend_save, predict_task, run_create
from labelhub.permissions import project_for
from labelhub.quality_bars import quality_with_defaults
from labelhub.refusals import Refusal

NOT_FOUND = OpenApiResponse(description="Not found, or not a project the caller manages.")


class BackendDisabled(Refusal):
    """Predictions asked of a backend its manager switched off."""

    code = "backend_disabled"

    def __init__(self) -> None:
        super().__init__("The backend is disabled.")


class BackendIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=2000, help_text="Base URL: LabelHub calls …/predict.")
    auth_header = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Sent as the Authorization header; never shown again (has_auth_header says).",
    )
    timeout_seconds = serializers.IntegerField(required=False, default=30, min_value=1)
    batch_size = serializers.IntegerField(required=False, default=16, min_value=1)
    enabled = serializers.BooleanField(required=False, default=True)
    predict_on_import = serializers.BooleanField(required=False, default=True)
    counts_as_answer = serializers.BooleanField(required=False, default=False)
    auto_accept_score = serializers.FloatField(required=False, allow_null=True, default=None)


class PredictIn(serializers.Serializer):
    tasks = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=100_000,
        help_text="Task ids; none: every open task. One id is answered at once (200).",
    )


def backend_dict(backend: ModelBackend) -> dict:
    quality = quality_with_defaults(backend.project.quality)
    pending_measure(backend=backend)
    return {
        "id": backend.pk,
        "name": backend.name,
        "url": backend.url,
        "has_auth_header": bool(backend.auth_header),
        "timeout_seconds": backend.timeout_seconds,
        "batch_size": backend.batch_size,
        "enabled": backend.enabled,
        "predict_on_import": backend.predict_on_import,
        "counts_as_answer": backend.counts_as_answer,
        "auto_accept_score": backend.auto_accept_score,
        "health": {
            "ok": backend.health_ok,
            "message": backend.health_message,
            "checked_at": backend.health_checked_at,
        },
        "versions": [version_summary(version=v, quality=quality) for v in backend.versions.all()],
    }


def _save(request: Request, project, backend: ModelBackend | None, *, partial: bool) -> Response:
    body = BackendIn(data=request.data, partial=partial)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    if backend is not None and partial:
        for field in BackendIn().fields:
            if field != "auth_header" and field not in data:
                data[field] = getattr(backend, field)
    data.setdefault("auth_header", KEEP)
    saved = backend_save(project=project, backend=backend, **data)
    code = status.HTTP_200_OK if backend is not None else status.HTTP_201_CREATED
    return Response(backend_dict(saved), status=code)


class BackendListApi(APIView):
    @extend_schema(
        operation_id="projects_backends_list",
        tags=["backends"],
        summary="A project's model backends, with each version's standing and what it saved",
        responses={200: OpenApiResponse(description="A list of backends."), 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        return Response([backend_dict(b) for b in project.model_backends.all()])

    @extend_schema(
        tags=["backends"],
        summary="Connect a model backend",
        request=BackendIn,
        responses={201: OpenApiResponse(description="The backend."), 400: None, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        return _save(request, project, None, partial=False)


class BackendDetailApi(APIView):
    def _backend(self, request: Request, project_id: int, backend_id: int) -> ModelBackend:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        return get_object_or_404(project.model_backends, pk=backend_id)

    @extend_schema(tags=["backends"], summary="One backend", responses={200: None, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int, backend_id: int) -> Response:
        return Response(backend_dict(self._backend(request, project_id, backend_id)))

    @extend_schema(
        tags=["backends"],
        summary="Change a backend (fields left out keep their values)",
        request=BackendIn,
        responses={200: None, 400: None, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int, backend_id: int) -> Response:
        backend = self._backend(request, project_id, backend_id)
        return _save(request, backend.project, backend, partial=True)

    @extend_schema(tags=["backends"], summary="Disconnect a backend", responses={204: None})
    def delete(self, request: Request, project_id: int, backend_id: int) -> Response:
        self._backend(request, project_id, backend_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class BackendPredictApi(APIView):
    @extend_schema(
        tags=["backends"],
        summary="Pre-label tasks with this backend",
        description="Without tasks: every open task, in the background (202 with the run). "
        "With one task id: that task at once (200 with the prediction; 502 when the backend "
        "fails). With several: those, in the background.",
        request=PredictIn,
        responses={
            200: inline_serializer(
                "PredictionOut",
                {
                    "id": serializers.IntegerField(),
                    "task": serializers.IntegerField(),
                    "result": serializers.JSONField(),
                    "score": serializers.FloatField(),
                    "model_version": serializers.CharField(),
                },
            ),
            202: OpenApiResponse(description="The queued run."),
            400: None,
            404: NOT_FOUND,
            409: OpenApiResponse(description="The backend is disabled."),
            502: OpenApiResponse(description="The backend failed; the message says why."),
        },
    )
    def post(self, request: Request, project_id: int, backend_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        backend = get_object_or_404(project.model_backends, pk=backend_id)
        body = PredictIn(data=request.data)
        body.is_valid(raise_exception=True)
        if not backend.enabled:
            raise BackendDisabled
        ids = body.validated_data.get("tasks") or []
        if len(ids) == 1:
            task = get_object_or_404(Task, pk=ids[0], project=project)
            try:
                prediction = predict_task(backend=backend, task=task)
            except protocol.BackendFailed as failure:
                return Response({"detail": str(failure)}, status=status.HTTP_502_BAD_GATEWAY)
            return Response(
                {
                    "id": prediction.pk,
                    "task": task.pk,
                    "result": prediction.result,
                    "score": prediction.score,
                    "model_version": prediction.version.version,
                }
            )
        found = set(Task.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
        if ids and found != set(ids):
            return Response({"tasks": ["Some ids name no task of this project."]}, status=400)
        run = run_create(backend=backend, actor=request.user, task_ids=ids)
        return Response(RunView(run).as_dict(), status=status.HTTP_202_ACCEPTED)
