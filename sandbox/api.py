"""The proof API: ``POST /api/v1/tasks/{id}/proofs/`` (a Check), ``GET /api/v1/proofs/{id}/``."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sandbox.permissions import proof_for, task_for_proof
from sandbox.selectors import proof_summary, proof_with_runs
from sandbox.services import proof_request


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
