"""The review API and contributor standing (routes in docs/api.md). Same services as the pages;
projects the caller may not review or manage are 404."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import ProjectContributor, Task
from labelhub.api import examples
from labelhub.permissions import can_review, project_for
from quality import selectors, services
from quality.models import ReviewReason
from quality.position import position_report


class ReviewAnswerSerializer(serializers.Serializer):
    annotation = serializers.IntegerField(source="annotation.pk")
    contributor = serializers.CharField(source="name")
    result = serializers.JSONField(source="annotation.result")


class ReviewItemSerializer(serializers.Serializer):
    task = serializers.SerializerMethodField()
    reason = serializers.CharField(source="outcome.review_reason")
    note = serializers.CharField(source="outcome.review_note")
    proposal = serializers.JSONField(source="outcome.proposal")
    agreement = serializers.FloatField(source="outcome.agreement", allow_null=True)
    confidence = serializers.FloatField(source="outcome.confidence", allow_null=True)
    version = serializers.IntegerField(source="outcome.version")
    answers = ReviewAnswerSerializer(many=True)

    def get_task(self, item) -> dict:
        return {"id": item.task.pk, "external_id": item.task.external_id, "data": item.task.data}


class VerdictInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["accept", "reject", "fix"])
    result = serializers.JSONField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False)
    annotations = serializers.ListField(child=serializers.IntegerField(), required=False)


class VerdictSerializer(serializers.Serializer):
    review = serializers.IntegerField(source="review.pk")
    verdict = serializers.CharField(source="review.verdict")
    task_status = serializers.CharField(source="task.status")
    accepted_result = serializers.JSONField(source="outcome.accepted_result")
    sent_back = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The rejected answers given back to their authors to correct (the project's "
        "quality.rejected_to is author); empty otherwise.",
    )


class StandingSerializer(serializers.Serializer):
    username = serializers.CharField(source="pc.user.username")
    status = serializers.CharField()
    pause_reason = serializers.CharField()
    gold_answered = serializers.IntegerField(source="gold_count")
    gold_accuracy = serializers.FloatField(allow_null=True)
    gold_interval = serializers.SerializerMethodField()
    peer_agreement = serializers.FloatField(allow_null=True)
    reviewed = serializers.IntegerField()
    review_acceptance = serializers.FloatField(allow_null=True)
    submitted = serializers.IntegerField()
    active_seconds = serializers.IntegerField()
    per_hour = serializers.FloatField(allow_null=True)
    review_share = serializers.FloatField(source="rule.share")
    review_rule = serializers.CharField(source="rule.words")
    gold_parts = serializers.DictField(
        child=serializers.FloatField(),
        help_text="The mean of each part of the gold score, for kinds that report them (agent "
        "runs: first error exact, first error within one step, step ratings, verdict); {} else.",
    )

    def get_gold_interval(self, view) -> list[float] | None:
        interval = view.gold_interval
        return None if interval is None else [interval.low, interval.high]


class ReviewNextView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "reason", str, enum=ReviewReason.values, description="Only tasks in review for it."
            ),
            OpenApiParameter(
                "contributor", str, description="Only tasks with an answer by this username."
            ),
            OpenApiParameter(
                "sort",
                str,
                enum=list(selectors.REVIEW_SORTS),
                description="priority (default: flagged, low agreement, sampled; oldest first), "
                "oldest, newest, agreement (lowest first), -agreement.",
            ),
        ],
        responses={
            200: ReviewItemSerializer,
            204: OpenApiResponse(description="Nothing to review."),
        },
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="review")
        filters = selectors.ReviewFilters.from_query(request.query_params)
        task = selectors.review_next(project=project, reviewer=request.user, filters=filters)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        item = selectors.review_item(project=project, task_id=task.pk)
        return Response(ReviewItemSerializer(item).data)


class ReviewVerdictView(APIView):
    """A verdict on a task in review, by task id. Without ``version`` the current one is used
    (last writer loses nothing: a task no longer in review is still a 409)."""

    @extend_schema(
        examples=examples.VERDICT,
        request=VerdictInputSerializer,
        responses={200: VerdictSerializer},
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = Task.objects.select_related("project", "outcome").filter(pk=task_id).first()
        if task is None or not can_review(user=request.user, project=task.project):
            raise Http404("No such task.")
        serializer = VerdictInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcome = getattr(task, "outcome", None)
        version = data.get("version", outcome.version if outcome else 0)
        recorded = services.review_record(
            task_id=task.pk,
            project=task.project,
            reviewer=request.user,
            verdict=data["verdict"],
            version=version,
            result=data.get("result"),
            comment=data["comment"],
            reject_annotation_ids=data.get("annotations") or None,  # none given: all
        )
        return Response(VerdictSerializer(recorded).data)


class ContributorsView(APIView):
    @extend_schema(responses={200: StandingSerializer(many=True)})
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        rows = selectors.contributor_standings(
            project=project, sort=request.GET.get("sort", "name")
        )
        return Response(StandingSerializer(rows, many=True).data)


class PauseInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Shown to the contributor when the queue refuses them work.",
    )


class ContributorStateSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    status = serializers.CharField()
    pause_reason = serializers.CharField()


def _contributor_or_404(call):
    try:
        return call()
    except ProjectContributor.DoesNotExist:
        raise Http404("No such contributor on this project.") from None


class ContributorPauseView(APIView):
    """Stop a contributor getting work on the project (the reason is what the queue tells them).
    Recorded in the audit log. A disqualified contributor stays disqualified."""

    @extend_schema(
        request=PauseInputSerializer,
        responses={200: ContributorStateSerializer, 404: OpenApiResponse()},
    )
    def post(self, request: Request, project_id: int, user_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        data = PauseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pc = _contributor_or_404(
            lambda: services.contributor_pause(
                project=project,
                user_id=user_id,
                actor=request.user,
                reason=data.validated_data["reason"],
            )
        )
        return Response(ContributorStateSerializer(pc).data)


class ContributorResumeView(APIView):
    """Let a paused contributor work again. Recorded in the audit log."""

    @extend_schema(
        request=None, responses={200: ContributorStateSerializer, 404: OpenApiResponse()}
    )
    def post(self, request: Request, project_id: int, user_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        pc = _contributor_or_404(
            lambda: services.contributor_resume(
                project=project, user_id=user_id, actor=request.user
            )
        )
        return Response(ContributorStateSerializer(pc).data)


class PositionBiasView(APIView):
    """The position-bias and tie report of a ranking or compare project (managers only)."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="`applicable` (false for kinds that show no candidates), "
                "`shuffled` (the project's shuffle_candidates), `project` and `contributors` "
                "(each with `username`): `answers`, `decided`, `first_won`, `first_won_share`, "
                "`first_won_interval` (95% Wilson), `expected`, `verdict` (bias_first, "
                "bias_later, no_bias, too_few), `words`, `tie_possible`, `ties`, `tie_rate`, "
                "`tie_interval`, `tie_words`."
            ),
            404: OpenApiResponse(description="Not found, or not a project the caller manages."),
        }
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        return Response(position_report(project=project).as_dict())


class AgreementView(APIView):
    """The project's agreement figures the dashboard shows (managers only): Krippendorff's alpha
    per question and the kind's plain agreement shares, over recent multi-answer tasks."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="`alpha`: [{`name`, `alpha` (null when undefined), `words`, "
                "`tasks`}]; `shares`: [{`name`, `share`, `tasks`}] (agent runs: `same first "
                "error`, the share of pairs of answers naming the same first wrong step)."
            ),
            404: OpenApiResponse(description="Not found, or not a project the caller manages."),
        }
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        alphas = selectors.project_alpha(project=project)
        shares = selectors.agreement_shares(project=project)
        return Response(
            {
                "alpha": [
                    {"name": a.name, "alpha": a.alpha, "words": a.words, "tasks": a.tasks}
                    for a in alphas
                ],
                "shares": [{"name": f.name, "share": f.share, "tasks": f.tasks} for f in shares],
            }
        )
