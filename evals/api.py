"""``/api/v1/projects/{id}/evals/…``: the eval set by API (managers of the project only; 404 for
anyone else, as for every project route). Errors are JSON keyed by field or row
(``{"3.model": ["…"]}``); nothing is changed when a request is refused."""

import orjson
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from evals import selectors, services, views
from evals.audits import audit_judge_request
from evals.models import EvalItem, EvalModel, EvalRun, Judge, Response
from kinds.rubric_eval import formats
from labelhub.permissions import can_manage, project_for
from sandbox.api import AuditSerializer
from sandbox.models import AuditAttempt
from sandbox.permissions import task_for_audit

NOT_FOUND = OpenApiResponse(description="Not found, or not a project the caller manages.")
TAGS = ["evals"]
OBJ = OpenApiTypes.OBJECT  # the shapes are in docs/evals.md
PAGE = 500


def _project(request: Request, project_id: int, *, write: bool = False):
    """The project if the caller manages it (else 404). Reads work on any project (a project
    that is not an eval set has nothing to list); writes need an eval set (409 says why)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    if write:
        services.eval_set_check(project=project)
    return project


def model_dict(m: EvalModel) -> dict:
    return {
        "id": m.pk,
        "name": m.name,
        "version": m.version,
        "base_url": m.base_url,
        "model": m.model,
        "has_api_key": bool(m.api_key),
        **{f: getattr(m, f) for f in views.ENDPOINT_FIELDS if f not in ("base_url", "model")},
    }


def item_dict(item: EvalItem) -> dict:
    return {
        "id": item.pk,
        "prompt_id": item.key,
        "prompt": item.prompt,
        "rubric": item.rubric,
        "example_tags": item.example_tags,
    }


def response_dict(r: Response) -> dict:
    tasks = [part.task_id for part in r.people_tasks.all()]
    return {
        "id": r.pk,
        "prompt_id": r.item.key,
        "model": r.model_name,
        "version": r.version,
        "response": r.text,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "latency_ms": r.latency_ms,
        "cost": r.cost,
        "route": r.route or "waiting",
        # ``task`` (the first people's task) is kept for scripts written against API 1.1.
        "task": tasks[0] if tasks else None,
        "tasks": tasks,
        "score": r.score,
        "tag_scores": r.tag_scores,
        "verdicts": r.verdicts,
    }


def _page(request: Request, rows, shape) -> dict:
    """A cursor page: ``?after=<id>`` (rows by id), at most ``PAGE``; ``next`` is the cursor."""
    after = request.query_params.get("after", "")
    if after:
        if not after.isdecimal():
            raise ValidationError({"after": ["A cursor is the id a previous page gave."]})
        rows = rows.filter(pk__gt=int(after))
    found = list(rows.order_by("pk")[: PAGE + 1])
    more = len(found) > PAGE
    found = found[:PAGE]
    return {"results": [shape(r) for r in found], "next": found[-1].pk if more else None}


class ItemListApi(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        tags=TAGS,
        summary="The eval set's prompts and rubrics (cursor pages)",
        responses={200: OBJ, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id)
        return ApiResponse(_page(request, EvalItem.objects.filter(project=project), item_dict))

    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Add prompts: HealthBench rows as a JSON list, or a JSONL file (field file)",
        responses={201: OBJ, 400: None, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        upload = request.FILES.get("file")
        if upload is not None:
            lines = upload.read().splitlines()
        elif isinstance(request.data, list):
            lines = [orjson.dumps(row) for row in request.data]
        else:
            raise ValidationError({"__all__": ["Send a JSON list of rows, or a JSONL file."]})
        outcome = services.items_import(project=project, prompts=formats.healthbench_read(lines))
        return ApiResponse(
            {"created": outcome.created, "updated": outcome.updated}, status=status.HTTP_201_CREATED
        )


class ModelListApi(APIView):
    @extend_schema(
        tags=TAGS, summary="Models connected to the eval set", responses={200: OBJ, 404: NOT_FOUND}
    )
    def get(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id)
        return ApiResponse([model_dict(m) for m in project.eval_models.all()])

    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Connect a model (OpenAI-compatible endpoint)",
        responses={201: OBJ, 400: None, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        values = request.data if isinstance(request.data, dict) else {}
        saved = services.eval_model_save(project=project, values=dict(values))
        return ApiResponse(model_dict(saved), status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Change a connected model (fields left out are kept)",
        responses={200: OBJ, 400: None, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int, model_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        found = get_object_or_404(project.eval_models, pk=model_id)
        values = request.data if isinstance(request.data, dict) else {}
        saved = services.eval_model_save(project=project, eval_model=found, values=dict(values))
        return ApiResponse(model_dict(saved))

    @extend_schema(
        tags=TAGS,
        summary="Disconnect a model (its responses stay)",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request: Request, project_id: int, model_id: int) -> ApiResponse:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        get_object_or_404(project.eval_models, pk=model_id).delete()
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class RunListApi(APIView):
    @extend_schema(
        operation_id="projects_evals_runs_list",
        tags=TAGS,
        summary="Runs, newest first",
        responses={200: OBJ, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id)
        runs = EvalRun.objects.filter(project=project).prefetch_related("eval_models")[:100]
        return ApiResponse([selectors.run_summary(r) for r in runs])

    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Ask models every prompt they have not answered: {models: [ids]} (202: the run)",
        responses={202: OBJ, 400: None, 404: NOT_FOUND, 409: None},
    )
    def post(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        ids = request.data.get("models") if isinstance(request.data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise ValidationError({"models": ["A list of connected model ids."]})
        chosen = list(project.eval_models.filter(pk__in=ids))
        if len(chosen) != len(set(ids)):
            raise ValidationError({"models": ["Some ids name no model of this eval set."]})
        run = services.run_create(project=project, actor=request.user, eval_models=chosen)
        return ApiResponse(selectors.run_summary(run), status=status.HTTP_202_ACCEPTED)


class RunDetailApi(APIView):
    @extend_schema(
        tags=TAGS, summary="One run with its progress", responses={200: OBJ, 404: NOT_FOUND}
    )
    def get(self, request: Request, project_id: int, run_id: int) -> ApiResponse:
        project = _project(request, project_id)
        return ApiResponse(selectors.run_summary(get_object_or_404(project.eval_runs, pk=run_id)))


class RunCancelApi(APIView):
    @extend_schema(
        request=None,
        tags=TAGS,
        summary="Cancel a queued or running run (what it collected stays)",
        responses={200: OBJ, 404: NOT_FOUND, 409: OBJ},
    )
    def post(self, request: Request, project_id: int, run_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        run = services.run_cancel(run=get_object_or_404(project.eval_runs, pk=run_id))
        return ApiResponse(selectors.run_summary(run))


class ResponseListApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Responses with their verdicts and scores (cursor pages)",
        responses={200: OBJ, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id)
        services.responses_settle(project=project)
        rows = (
            Response.objects.filter(project=project)
            .select_related("item")
            .prefetch_related("people_tasks")
        )
        if model := request.query_params.get("model"):
            rows = rows.filter(model_name=model)
        return ApiResponse(_page(request, rows, response_dict))

    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Import responses: [{task: prompt_id or id, model, version?, response}]",
        responses={201: OBJ, 400: None, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        count = services.responses_import(project=project, rows=request.data)
        return ApiResponse({"created": count}, status=status.HTTP_201_CREATED)


class RouteApi(APIView):
    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Send a sample to people ({sample: n}) or route the rest ({})",
        responses={200: OBJ, 400: None, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        sample = request.data.get("sample") if isinstance(request.data, dict) else None
        if sample is not None:
            if not isinstance(sample, int) or isinstance(sample, bool) or not 0 < sample <= 100_000:
                raise ValidationError({"sample": ["A whole number from 1 to 100000."]})
            sent = services.responses_send_to_people(project=project, count=sample)
            return ApiResponse({"people": sent, "judge": 0, "waiting": 0})
        routed = services.responses_route(project=project)
        return ApiResponse(
            {"people": routed.people, "judge": routed.judge, "waiting": routed.waiting}
        )


class JudgeListApi(APIView):
    @extend_schema(
        operation_id="projects_evals_judges_list",
        tags=TAGS,
        summary="Judges with their current version and calibration",
        responses={200: OBJ, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id)
        return ApiResponse([selectors.judge_summary(judge=j) for j in project.judges.all()])

    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Add a judge (template optional: the default one)",
        responses={201: OBJ, 400: None, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        values = dict(request.data) if isinstance(request.data, dict) else {}
        judge = services.judge_save(project=project, values=values, actor=request.user)
        return ApiResponse(selectors.judge_summary(judge=judge), status=status.HTTP_201_CREATED)


class JudgeDetailApi(APIView):
    def _judge(
        self, request: Request, project_id: int, judge_id: int, *, write: bool = False
    ) -> Judge:
        project = _project(request, project_id, write=write)
        return get_object_or_404(project.judges, pk=judge_id)

    @extend_schema(
        tags=TAGS,
        summary="One judge: template, calibration per tag, status",
        responses={200: OBJ, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int, judge_id: int) -> ApiResponse:
        return ApiResponse(
            selectors.judge_summary(judge=self._judge(request, project_id, judge_id))
        )

    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Change a judge; a changed template is a new version; {status: active|stopped}",
        responses={200: OBJ, 400: None, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int, judge_id: int) -> ApiResponse:
        judge = self._judge(request, project_id, judge_id, write=True)
        values = dict(request.data) if isinstance(request.data, dict) else {}
        wanted = values.pop("status", None)
        if wanted not in (None, "active", "stopped"):
            raise ValidationError({"status": ["active or stopped."]})
        if set(values) - {"status"}:
            judge = services.judge_save(
                project=judge.project, judge=judge, values=values, actor=request.user
            )
        if wanted == "stopped" and judge.status != "stopped":
            services.judge_stop(judge=judge, reason=f"Stopped by {request.user.get_username()}.")
        elif wanted == "active" and judge.status != "active":
            services.judge_resume(judge=judge)
        judge.refresh_from_db()
        return ApiResponse(selectors.judge_summary(judge=judge))

    @extend_schema(
        tags=TAGS,
        summary="Remove a judge; what it graded alone goes back to people",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request: Request, project_id: int, judge_id: int) -> ApiResponse:
        services.judge_delete(judge=self._judge(request, project_id, judge_id, write=True))
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)


class JudgeRunApi(APIView):
    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Grade the responses this judge version has not graded",
        responses={202: OBJ, 404: NOT_FOUND, 409: None},
    )
    def post(self, request: Request, project_id: int, judge_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        judge = get_object_or_404(project.judges, pk=judge_id)
        run = services.judge_run_create(judge=judge, actor=request.user)
        return ApiResponse(selectors.run_summary(run), status=status.HTTP_202_ACCEPTED)


class JudgeCalibrateApi(APIView):
    @extend_schema(
        request=OBJ,
        tags=TAGS,
        summary="Calibrate the judge's current version now, then route",
        responses={200: OBJ, 404: NOT_FOUND, 409: None},
    )
    def post(self, request: Request, project_id: int, judge_id: int) -> ApiResponse:
        project = _project(request, project_id, write=True)
        judge = get_object_or_404(project.judges, pk=judge_id)
        if services.judge_calibrate(judge=judge) is None:
            raise services.EvalRefused(
                "No response is graded by both people and this judge yet.",
                code="nothing_to_calibrate",
            )
        services.responses_route(project=project)
        judge.refresh_from_db()
        return ApiResponse(selectors.judge_summary(judge=judge))


class LeaderboardApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The leaderboard: means with intervals, per tag, pairs",
        responses={200: OBJ, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> ApiResponse:
        return ApiResponse(selectors.leaderboard(project=_project(request, project_id)))


class FileNegotiation(DefaultContentNegotiation):
    """``?format=`` names the file here, not DRF's renderer: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = JSONRenderer()
        return renderer, renderer.media_type


class ExportApi(APIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        tags=TAGS,
        summary="A file: ?format=graded (default)|healthbench|scores|leaderboard|sft|preferences",
        responses={200: OBJ, 400: None, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int):
        project = _project(request, project_id)
        name = request.query_params.get("format", "graded")
        if name not in views.EXPORTS:
            raise ValidationError({"format": [f"One of {', '.join(views.EXPORTS)}."]})
        return views.export_response(project=project, name=name)


class AuditJudgeInput(serializers.Serializer):
    judge = serializers.IntegerField(help_text="The id of one of the organization's judges.")


class AuditJudgeApi(APIView):
    """``POST /api/v1/audits/{id}/rubric/judge/ {"judge": id}``: have one of the organization's
    judge models grade an audit attempt's rubric claims (the project's managers; 404 for anyone
    else). 202 with the attempt; poll ``GET /api/v1/tasks/{task}/audits/`` for its grades."""

    @extend_schema(
        tags=["audits"],
        request=AuditJudgeInput,
        responses={202: AuditSerializer, 400: OBJ, 404: NOT_FOUND, 409: OBJ},
    )
    def post(self, request: Request, audit_id: int) -> ApiResponse:
        audit = (
            AuditAttempt.objects.select_related("project", "auditor").filter(pk=audit_id).first()
        )
        if audit is None:
            raise Http404("No such audit.")
        task = task_for_audit(user=request.user, task_id=audit.task_id)
        if not can_manage(user=request.user, project=task.project):
            raise Http404("No such audit.")
        data = AuditJudgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        audit = audit_judge_request(
            audit=audit, judge_id=data.validated_data["judge"], actor=request.user
        )
        return ApiResponse(AuditSerializer(audit).data, status=status.HTTP_202_ACCEPTED)
