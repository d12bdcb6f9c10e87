"""The proof API: ``POST /api/v1/tasks/{id}/proofs/`` (a Check), ``GET /api/v1/proofs/{id}/``;
audits: ``GET/POST /api/v1/tasks/{id}/audits/`` and ``GET /api/v1/projects/{id}/audits/``."""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.permissions import project_for
from sandbox.models import AuditAttempt
from sandbox.permissions import proof_for, task_for_audit, task_for_proof
from sandbox.selectors import audit_agreement, audits_of_task, proof_summary, proof_with_runs
from sandbox.services import audit_grade_rubric, audit_request, proof_request


class ProofInputSerializer(serializers.Serializer):
    result = serializers.JSONField(help_text="The answer to prove, as it would be submitted.")


class ProofRunSerializer(serializers.Serializer):
    run = serializers.CharField(help_text="solution, wrong_attempt or repeat")
    reward = serializers.FloatField(allow_null=True)
    passed = serializers.BooleanField(help_text="Whether the run did what it must.")
    status = serializers.CharField(help_text="passed, failed or stopped")
    reason = serializers.CharField()
    seconds = serializers.FloatField()
    output = serializers.CharField()
    details = serializers.JSONField()


class ProofSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.IntegerField()
    assignment = serializers.IntegerField(allow_null=True)
    content_key = serializers.CharField()
    status = serializers.CharField(help_text="queued, running, done or error")
    holds = serializers.BooleanField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    runs = ProofRunSerializer(many=True)


class TaskProofsApi(APIView):
    @extend_schema(request=ProofInputSerializer, responses={202: ProofSerializer})
    def post(self, request: Request, task_id: int) -> Response:
        """Check an answer: queue its proof in the sandbox; poll the proof until it is done."""
        task, assignment = task_for_proof(user=request.user, task_id=task_id)
        data = ProofInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            proof = proof_request(
                task=task,
                user=request.user,
                result=data.validated_data["result"],
                assignment=assignment,
            )
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else {
                "result": error.messages
            }  # fmt: skip
            return Response(detail, status=status.HTTP_400_BAD_REQUEST)
        proof = proof_with_runs(proof_id=proof.pk)
        return Response(proof_summary(proof), status=status.HTTP_202_ACCEPTED)


class ProofApi(APIView):
    @extend_schema(responses={200: ProofSerializer})
    def get(self, request: Request, proof_id: int) -> Response:
        proof = proof_for(user=request.user, proof=proof_with_runs(proof_id=proof_id))
        return Response(proof_summary(proof))


class AuditInputSerializer(serializers.Serializer):
    attempt = serializers.CharField(
        trim_whitespace=False,
        help_text="Your own attempt: a bash script run in /app on a fresh copy of the task's "
        "starting files; the task's verifier then judges the files it leaves.",
    )
    expected_pass = serializers.BooleanField(
        help_text="Whether you expect the verifier to pass your attempt (said before it runs)."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AuditAgreementSerializer(serializers.Serializer):
    agreement = serializers.FloatField(
        allow_null=True,
        help_text="Share of judged attempts the verifier judged as their auditor expected.",
    )
    judged = serializers.IntegerField()
    agreeing = serializers.IntegerField()
    waiting = serializers.IntegerField()
    unjudged = serializers.IntegerField(help_text="Stopped or could not run: not counted.")
    tasks = serializers.IntegerField(help_text="Tasks with at least one audit attempt.")


class AuditSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.IntegerField(source="task_id")
    auditor = serializers.CharField(source="auditor.username")
    expected_pass = serializers.BooleanField()
    note = serializers.CharField()
    status = serializers.CharField(help_text="queued, running, done or error")
    reward = serializers.FloatField(allow_null=True)
    verifier_passed = serializers.BooleanField(allow_null=True)
    agrees = serializers.BooleanField(allow_null=True)
    reason = serializers.CharField()
    output = serializers.CharField()
    seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    rubric_grades = serializers.ListField(
        child=serializers.BooleanField(),
        allow_null=True,
        help_text="The task's rubric claims graded on this attempt, met or not, in order.",
    )
    rubric_reward = serializers.FloatField(
        allow_null=True, help_text="Points of the claims met over the positive points (0..1)."
    )
    changes = serializers.JSONField(
        help_text="The files the attempt changed: [{file, change, diff}] (a unified diff)."
    )
    rubric_judge = serializers.CharField(
        help_text="The judge model (name and version) asked to grade the claims; empty if none."
    )
    judge_status = serializers.CharField(
        help_text="Empty until a judge is asked; then queued, running, done or error."
    )
    judge_error = serializers.CharField(help_text="Why the judge could not grade.")
    judge_grades = serializers.ListField(
        child=serializers.BooleanField(),
        allow_null=True,
        help_text="The judge's grades of the claims, kept beside a person's (never over them).",
    )
    judge_reward = serializers.FloatField(
        allow_null=True, help_text="The reward the judge's grades come to (the same rule)."
    )
    rubric_agreement = serializers.JSONField(
        allow_null=True,
        help_text="{claims, agreeing, share}: the person's and the judge's grades compared.",
    )


class TaskAuditsSerializer(serializers.Serializer):
    agreement = AuditAgreementSerializer()
    attempts = AuditSerializer(many=True)


def _task_audits(task) -> dict:
    return TaskAuditsSerializer(
        {
            "agreement": audit_agreement(project_id=task.project_id, task_id=task.pk).as_dict(),
            "attempts": audits_of_task(task_id=task.pk),
        }
    ).data


class TaskAuditsApi(APIView):
    @extend_schema(responses={200: TaskAuditsSerializer})
    def get(self, request: Request, task_id: int) -> Response:
        """A task's audit attempts and their agreement (reviewers and managers)."""
        return Response(_task_audits(task_for_audit(user=request.user, task_id=task_id)))

    @extend_schema(request=AuditInputSerializer, responses={202: AuditSerializer})
    def post(self, request: Request, task_id: int) -> Response:
        """Audit an accepted task: your own attempt, judged by its verifier in the sandbox."""
        task = task_for_audit(user=request.user, task_id=task_id)
        data = AuditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        audit = audit_request(task=task, auditor=request.user, **data.validated_data)
        return Response(AuditSerializer(audit).data, status=status.HTTP_202_ACCEPTED)


class ProjectAuditsApi(APIView):
    @extend_schema(responses={200: AuditAgreementSerializer})
    def get(self, request: Request, project_id: int) -> Response:
        """The project's audit agreement (reviewers and managers)."""
        project = project_for(user=request.user, project_id=project_id, action="review")
        return Response(audit_agreement(project_id=project.pk).as_dict())


class RubricGradesInput(serializers.Serializer):
    grades = serializers.JSONField(help_text="One true (met) / false (not met) per rubric claim.")


class AuditRubricApi(APIView):
    @extend_schema(request=RubricGradesInput, responses={200: AuditSerializer})
    def put(self, request: Request, audit_id: int) -> Response:
        """Grade the task's rubric claims on someone's audit attempt (reviewers, managers)."""
        audit = AuditAttempt.objects.select_related("auditor").filter(pk=audit_id).first()
        if audit is None:
            raise Http404("No such audit.")
        task_for_audit(user=request.user, task_id=audit.task_id)
        data = RubricGradesInput(data=request.data)
        data.is_valid(raise_exception=True)
        audit_grade_rubric(audit=audit, grader=request.user, grades=data.validated_data["grades"])
        return Response(AuditSerializer(audit).data)
