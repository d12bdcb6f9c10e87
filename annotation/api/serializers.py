"""Input and output shapes of the queue API (a public contract: see DESIGN.md)."""

from rest_framework import serializers


class QueueTaskSerializer(serializers.Serializer):
    """What a contributor sees of a task: never whether it is gold, never the gold answer."""

    id = serializers.IntegerField()
    data = serializers.JSONField()
    predictions = serializers.JSONField()


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    expires_at = serializers.DateTimeField(source="lease_expires_at")
    draft = serializers.JSONField(allow_null=True)
    draft_saved_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class NextTaskSerializer(serializers.Serializer):
    assignment = AssignmentSerializer(source="*")
    task = QueueTaskSerializer()
    expires_at = serializers.DateTimeField(source="lease_expires_at")


class DraftInputSerializer(serializers.Serializer):
    result = serializers.DictField()
    version = serializers.IntegerField(required=False, min_value=1)


class SubmitInputSerializer(serializers.Serializer):
    result = serializers.DictField()
    active_seconds = serializers.IntegerField(required=False, default=0, min_value=0)


class SkipInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class SubmissionSerializer(serializers.Serializer):
    annotation = serializers.IntegerField(source="annotation.pk")
    assignment = serializers.IntegerField(source="annotation.assignment_id")
    created_at = serializers.DateTimeField(source="annotation.created_at")
    active_seconds = serializers.IntegerField(source="annotation.active_seconds")


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
