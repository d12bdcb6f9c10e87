"""The queue API: next task, draft, submit, skip. Thin: each view checks access, calls one
service and shapes the answer. Refusals (paused, disqualified, lease lost, conflicts) are JSON
``{detail, code}`` with 403 or 409; invalid answers are 400 with one entry per field path
(``result.boxes.0.x``)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import queue
from annotation.api.authentication import QueueTokenAuthentication
from annotation.api.serializers import (
    AssignmentSerializer,
    DraftInputSerializer,
    NextTaskSerializer,
    RefusalSerializer,
    SkipInputSerializer,
    SubmissionSerializer,
    SubmitInputSerializer,
)
from annotation.models import Assignment
from annotation.selectors import project_for_contributor


class QueueView(APIView):
    """The queue's endpoints: token auth in one query, or the browser's session."""

    authentication_classes = [QueueTokenAuthentication, SessionAuthentication]


def refusal_response(refusal: queue.QueueRefusal) -> Response:
    body = {"detail": refusal.message, "code": refusal.code}
    if isinstance(refusal, queue.DraftConflict):
        body["current_version"] = refusal.current_version
    return Response(body, status=refusal.status)


def result_errors(error: ValidationError) -> dict[str, list[str]]:
    """A kind's path-keyed errors, rooted at ``result``."""
    if not hasattr(error, "error_dict"):
        return {"result": list(error.messages)}
    return {
        ("result" if path == "__all__" else f"result.{path}"): list(messages)
        for path, messages in error.message_dict.items()
    }


class NextTaskView(QueueView):
    @extend_schema(
        request=None,
        responses={
            200: NextTaskSerializer,
            204: OpenApiResponse(description="No task for you right now."),
            403: RefusalSerializer,
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for_contributor(user=request.user, project_id=project_id)
        try:
            assignment = queue.assignment_claim_next(project=project, contributor=request.user)
        except queue.QueueRefusal as refusal:
            return refusal_response(refusal)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(NextTaskSerializer(assignment).data)


class DraftView(QueueView):
    @extend_schema(request=DraftInputSerializer, responses={200: AssignmentSerializer})
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
        except queue.QueueRefusal as refusal:
            return refusal_response(refusal)
        return Response(AssignmentSerializer(assignment).data)


class SubmitView(QueueView):
    @extend_schema(
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
        except queue.QueueRefusal as refusal:
            return refusal_response(refusal)
        return Response(
            SubmissionSerializer(submission).data,
            status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK,
        )


class SkipView(QueueView):
    @extend_schema(request=SkipInputSerializer, responses={200: AssignmentSerializer})
    def post(self, request: Request, assignment_id: int) -> Response:
        data = _valid(SkipInputSerializer, request)
        try:
            assignment = queue.assignment_skip(
                assignment_id=assignment_id, contributor=request.user, reason=data["reason"]
            )
        except Assignment.DoesNotExist:
            raise Http404("No such assignment.") from None
        except queue.QueueRefusal as refusal:
            return refusal_response(refusal)
        return Response(AssignmentSerializer(assignment).data)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
