"""``GET /api/v1/tasks/{id}/``: a task with its answers, its outcome (consensus) and its reviews.

Managers and reviewers see every answer, who gave it, and the reviews; a contributor sees only
their own answers, never a gold score, the gold answer or whether the task is gold.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.serializers import TaskManagerOutput
from annotation.api.views import task_output_for
from annotation.models import Annotation, Task
from annotation.selectors import tasks_with_figures
from labelhub.content import tasks_not_opted_out
from labelhub.permissions import can_manage, can_review, can_view
from quality.models import Review, TaskOutcome
from quality.task_page import task_history, task_skips


class AnnotationOutput(serializers.ModelSerializer):
    contributor = serializers.CharField(source="contributor.get_username")

    class Meta:
        model = Annotation
        fields = ["id", "contributor", "result", "active_seconds", "created_at"]


class OwnAnnotationOutput(serializers.ModelSerializer):
    """A contributor's own answer: no name (it is theirs), no gold score."""

    class Meta:
        model = Annotation
        fields = ["id", "result", "active_seconds", "created_at"]


class AnnotationReviewerOutput(AnnotationOutput):
    class Meta(AnnotationOutput.Meta):
        fields = [*AnnotationOutput.Meta.fields, "gold_score"]


class OutcomeOutput(serializers.ModelSerializer):
    class Meta:
        model = TaskOutcome
        fields = [
            "proposal",
            "is_consensus",
            "confidence",
            "agreement",
            "answers_used",
            "review_reason",
            "accepted_result",
            "accepted_at",
            "version",
        ]


class ReviewOutput(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.get_username")

    class Meta:
        model = Review
        fields = ["id", "verdict", "reason", "reviewer", "result", "comment", "created_at"]


class SkipOutput(serializers.Serializer):
    contributor = serializers.CharField()
    reason = serializers.CharField(help_text="In words: the chosen reason, or the text given.")
    at = serializers.DateTimeField(allow_null=True)


class EventOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    what = serializers.CharField()
    who = serializers.CharField()


class TaskDetailOutput(TaskManagerOutput):
    annotations = serializers.ListField(child=serializers.DictField())
    outcome = OutcomeOutput(allow_null=True)
    reviews = ReviewOutput(many=True)
    skip_count = serializers.IntegerField(required=False, help_text="Reviewers and managers.")
    needs_attention = serializers.BooleanField(
        required=False, help_text="Open work nobody eligible can still get, or broken media."
    )
    skips = SkipOutput(many=True, required=False, help_text="Who skipped it and why.")
    history = EventOutput(many=True, required=False, help_text="What happened to it, in order.")

    class Meta(TaskManagerOutput.Meta):
        fields = [
            *TaskManagerOutput.Meta.fields,
            "annotations",
            "outcome",
            "reviews",
            "skip_count",
            "needs_attention",
            "skips",
            "history",
        ]


EXAMPLE = {
    "id": 42,
    "project": 7,
    "external_id": "img-0042",
    "data": {"image": "https://example.com/cat.jpg", "width": 640, "height": 480},
    "predictions": [],
    "status": "accepted",
    "priority": 0,
    "overlap": 2,
    "answer_count": 2,
    "callback_url": "https://example.com/hooks/labelhub",
    "media_meta": {},
    "created_at": "2026-11-20T10:00:00Z",
    "updated_at": "2026-11-20T10:05:00Z",
    "annotations": [
        {
            "id": 501,
            "contributor": "ana",
            "result": {"boxes": [{"label": "cat", "x": 10, "y": 20, "w": 100, "h": 80}]},
            "active_seconds": 34,
            "created_at": "2026-11-20T10:02:00Z",
        }
    ],
    "outcome": {
        "proposal": {"boxes": [{"label": "cat", "x": 11, "y": 20, "w": 99, "h": 80}]},
        "is_consensus": True,
        "confidence": 0.93,
        "agreement": 0.91,
        "answers_used": 2,
        "review_reason": "",
        "accepted_result": {"boxes": [{"label": "cat", "x": 11, "y": 20, "w": 99, "h": 80}]},
        "accepted_at": "2026-11-20T10:05:00Z",
        "version": 2,
    },
    "reviews": [],
}


class TaskDetailApi(APIView):
    @extend_schema(
        operation_id="tasks_retrieve",
        summary="One task with its answers, consensus and reviews",
        description=(
            "Managers and reviewers see every answer and review; a contributor sees only their "
            "own answers, and never the gold answer."
        ),
        responses={
            200: TaskDetailOutput,
            404: OpenApiResponse(description="Not found, or not in one of the caller's projects."),
        },
        examples=[OpenApiExample("An accepted task", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, task_id: int) -> Response:
        task = Task.objects.select_related("project").filter(pk=task_id).first()
        if task is None or not can_view(user=request.user, project=task.project):
            raise Http404("No such task.")
        project = task.project
        if (
            not can_manage(user=request.user, project=project)
            and not (
                tasks_not_opted_out(
                    Task.objects.filter(pk=task.pk), project=project, user=request.user
                )
            ).exists()
        ):
            raise Http404("No such task.")  # content the caller opted out of: as if not there
        # The same choice as the plain task API: contributors get only what they label (status and
        # counters would tell a gold task apart: it stays open and collects more answers).
        body = dict(task_output_for(request, project)(task).data)
        annotations = task.annotations.select_related("contributor").order_by("pk")
        if can_review(user=request.user, project=project):
            body["annotations"] = AnnotationReviewerOutput(annotations, many=True).data
            outcome = TaskOutcome.objects.filter(task=task).first()
            body["outcome"] = OutcomeOutput(outcome).data if outcome else None
            reviews = Review.objects.filter(task=task).select_related("reviewer").order_by("pk")
            body["reviews"] = ReviewOutput(reviews, many=True).data
            figures = (
                tasks_with_figures(project=project)
                .values("skip_count", "needs_attention")
                .get(pk=task.pk)
            )
            body.update(figures)
            body["skips"] = SkipOutput(task_skips(task=task), many=True).data
            body["history"] = EventOutput(task_history(task=task, project=project), many=True).data
        else:
            mine = annotations.filter(contributor_id=request.user.pk)
            body["annotations"] = OwnAnnotationOutput(mine, many=True).data
            body["outcome"] = None
            body["reviews"] = []
        return Response(body)
