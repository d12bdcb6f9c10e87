"""The live model connection in the API: what the settings page does, for scripts.

The API key is write-only, as on the page: it is never returned, only whether one is set.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from genai.services import KEEP, live_model_for, live_model_save
from labelhub.permissions import project_for

NOT_FOUND = OpenApiResponse(description="No such project, or not one the caller manages.")


class LiveModelIn(serializers.Serializer):
    enabled = serializers.BooleanField(default=True)
    base_url = serializers.URLField(
        max_length=500, help_text="The OpenAI-compatible base URL, e.g. https://host/v1."
    )
    model = serializers.CharField(max_length=200)
    temperature = serializers.FloatField(default=0.7, min_value=0.0, max_value=2.0)
    max_tokens = serializers.IntegerField(default=1024, min_value=1, max_value=32_000)
    api_key = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Write-only. Leave out to keep the current key; an empty string removes it.",
    )


class LiveModelOut(serializers.Serializer):
    connected = serializers.BooleanField(help_text="False until a model is connected.")
    enabled = serializers.BooleanField()
    base_url = serializers.URLField()
    model = serializers.CharField()
    temperature = serializers.FloatField()
    max_tokens = serializers.IntegerField()
    has_api_key = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True)


NOT_CONNECTED = {
    "connected": False,
    "enabled": False,
    "base_url": "",
    "model": "",
    "temperature": 0.7,
    "max_tokens": 1024,
    "has_api_key": False,
    "updated_at": None,
}


def _out(live) -> dict:
    return LiveModelOut(
        {
            "connected": True,
            "enabled": live.enabled,
            "base_url": live.base_url,
            "model": live.model,
            "temperature": live.temperature,
            "max_tokens": live.max_tokens,
            "has_api_key": bool(live.api_key),
            "updated_at": live.updated_at,
        }
    ).data


class LiveModelApi(APIView):
    @extend_schema(
        operation_id="projects_live_model_retrieve",
        tags=["live mode"],
        summary="The conversation project's live model connection (managers)",
        responses={200: LiveModelOut, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        live = live_model_for(project=project)
        return Response(_out(live) if live else NOT_CONNECTED)

    @extend_schema(
        operation_id="projects_live_model_update",
        tags=["live mode"],
        summary="Connect or change the project's live model (conversation projects)",
        request=LiveModelIn,
        responses={200: LiveModelOut, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def put(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        if not getattr(project.installed_kind, "live_mode", False):
            return Response(
                {"detail": "Live mode is for conversation projects.", "code": "wrong_kind"}, 400
            )
        given = LiveModelIn(data=request.data)
        given.is_valid(raise_exception=True)
        values = dict(given.validated_data)
        api_key = values.pop("api_key", KEEP)
        live = live_model_save(project=project, actor=request.user, api_key=api_key, **values)
        return Response(_out(live))
