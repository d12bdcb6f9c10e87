"""Input and output shapes of the annotation API: tasks, imports, the queue (docs/api.md)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation.models import ImportJob, Task, TaskStatus
from annotation.selectors import ShownTask, task_shown_to
from labelhub.content import BUILT_IN, categories_of, names_of
from labelhub.models import Project

MAX_ID = 2**63 - 1  # ids are 64-bit: a bigger number names no row (and no database takes it)
BUILT_IN_BITS = sum(c.flag for c in BUILT_IN)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class ContentNamesField(serializers.Field):
    """A task's own content categories by name (its project's are on the project).

    Built-in categories cost nothing; an organization's own are looked up once per serializer
    (not per task), so a page of tasks stays one query.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            "The task's own content categories (names); the project's `content_categories` "
            "apply on top.",
        )
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, task) -> list[str]:
        flags = task.content_flags
        if not flags:
            return []
        if not flags & ~BUILT_IN_BITS:
            return names_of(flags, list(BUILT_IN))
        cache = self.root.__dict__.setdefault("_content_categories", {})
        if task.project_id not in cache:
            org_id = Project.objects.filter(pk=task.project_id).values_list(
                "organization_id", flat=True
            )[0]
            cache[task.project_id] = categories_of(org_id)
        return names_of(flags, cache[task.project_id])


class QueueTaskSerializer(serializers.Serializer):
    """What a contributor sees of a task: never whether it is gold, never the gold answer."""

    id = serializers.IntegerField()
    data = serializers.SerializerMethodField()
    predictions = serializers.JSONField()
    content = ContentNamesField()
    shown_order = serializers.SerializerMethodField(
        help_text="The ids of the candidates compared (ranking responses, conversation "
        "candidates) in the order `data` lists them for you: an order of your own, the same on "
        "every call, unless the project turned shuffling off. Empty when nothing is compared."
    )

    def _shown(self, task) -> ShownTask:
        cache = self.root.__dict__.setdefault("_shown", {})
        if task.pk not in cache:
            cache[task.pk] = task_shown_to(
                project=task.project, task=task, contributor_id=self.context["contributor_id"]
            )
        return cache[task.pk]

    def get_data(self, task) -> dict:
        """Blind, as on the work screen: no model names in what is compared, and the candidates
        in the caller's own order."""
        return self._shown(task).data

    def get_shown_order(self, task) -> list[str]:
        return self._shown(task).order


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    expires_at = serializers.DateTimeField(source="lease_expires_at")
    draft = serializers.JSONField(allow_null=True)
    draft_saved_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


# The shape of "next task", as the schema gives it; next_task_answer() builds it.
class NextTaskSerializer(serializers.Serializer):
    assignment = AssignmentSerializer(source="*")
    task = QueueTaskSerializer()
    expires_at = serializers.DateTimeField(source="lease_expires_at")


_WHEN = serializers.DateTimeField()


def next_task_answer(assignment, *, contributor_id: int) -> dict:
    """:class:`NextTaskSerializer`'s answer, built without a serializer.

    A serializer deep-copies its declared fields, and its nested ones', on every use: about a
    tenth of a claim's time in the web process, for a fixed shape of a dozen values. The values
    go through the same fields' conversions (dates, content names) and the same
    :func:`task_shown_to`; a test holds this answer equal to the serializer's.
    """
    task = assignment.task
    shown = task_shown_to(project=task.project, task=task, contributor_id=contributor_id)
    expires = _WHEN.to_representation(assignment.lease_expires_at)
    saved = assignment.draft_saved_at
    return {
        "assignment": {
            "id": assignment.pk,
            "status": assignment.status,
            "expires_at": expires,
            "draft": assignment.draft,
            "draft_saved_at": None if saved is None else _WHEN.to_representation(saved),
            "version": assignment.version,
        },
        "task": {
            "id": task.pk,
            "data": shown.data,
            "predictions": task.predictions,
            "content": ContentNamesField().to_representation(task),
            "shown_order": shown.order,
        },
        "expires_at": expires,
    }


class DraftInputSerializer(serializers.Serializer):
    result = serializers.DictField()
    version = serializers.IntegerField(required=False, min_value=1)


class SubmitInputSerializer(serializers.Serializer):
    result = serializers.DictField()
    active_seconds = serializers.FloatField(
        required=False,
        default=0,
        min_value=0,
        help_text=(
            "Seconds the person actively worked on the task (tab visible, someone working). Any "
            "non-negative number; fractions are welcome (timers give them) and the time is stored "
            "rounded to the nearest whole second."
        ),
    )

    def validate_active_seconds(self, value: float) -> int:
        if value != value or value in (float("inf"), float("-inf")):
            raise serializers.ValidationError("A number of seconds is required.")
        return round(value)


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


class TaskInput(serializers.Serializer):
    """One task to create (only for the schema: the import checks each field itself)."""

    data = serializers.JSONField(help_text="The kind's task data, e.g. {'image': URL}.")
    external_id = serializers.CharField(
        required=False, max_length=200, help_text="Your id; importing it again updates the task."
    )
    gold = serializers.JSONField(required=False, help_text="A known answer: makes a gold task.")
    predictions = serializers.JSONField(required=False, help_text="A list of model results.")
    callback_url = serializers.URLField(required=False, max_length=2000)
    priority = serializers.IntegerField(required=False, help_text="Higher is served first.")
    content = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Content categories of this task, e.g. ['violence'] (the organization's names).",
    )


class TaskUploadInput(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(),
        help_text="One or more files: JSON, JSONL, CSV/TSV, zip, images, audio, or a COCO JSON.",
    )
    coco = serializers.ChoiceField(
        choices=["gold", "predictions"],
        required=False,
        help_text="For a COCO file: attach its boxes as gold answers or as predictions.",
    )


class ImportCreatedOutput(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField(help_text="Tasks whose external_id existed already.")
    total = serializers.IntegerField()


class ProblemOutput(serializers.Serializer):
    where = serializers.CharField(help_text="'item 3', 'row 7', 'line 2' or 'file cat.jpg'.")
    field = serializers.CharField(help_text="A path such as 'data.image' or 'gold.boxes.0.label'.")
    message = serializers.CharField()


class ImportRejectedOutput(serializers.Serializer):
    detail = serializers.CharField()
    problems = ProblemOutput(many=True)
    problem_count = serializers.IntegerField()


class ImportJobOutput(serializers.ModelSerializer):
    errors = serializers.ListField(
        child=serializers.CharField(), help_text="Why the import failed, row by row."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "project",
            "status",
            "original_name",
            "total",
            "processed",
            "created",
            "updated",
            "errors",
            "created_at",
            "finished_at",
        ]


class TaskOutput(serializers.ModelSerializer):
    content = ContentNamesField()

    class Meta:
        model = Task
        fields = [
            "id",
            "project",
            "external_id",
            "data",
            "predictions",
            "status",
            "priority",
            "content",
            "overlap",
            "answer_count",
            "callback_url",
            "media_meta",
            "created_at",
            "updated_at",
        ]


class TaskContributorOutput(serializers.ModelSerializer):
    """What a contributor sees of a task through the API: what they label, nothing else.

    Status, answer count, overlap, external id and media metadata are left out: gold tasks stay
    open and collect more answers than their overlap, and their ids or metadata may come from the
    customer's gold file, so any of these could tell a gold task from a normal one.
    """

    content = ContentNamesField()

    class Meta:
        model = Task
        fields = ["id", "project", "data", "predictions", "content"]


class TaskManagerOutput(TaskOutput):
    """What a manager sees: the same task with whether it is gold, and its gold answer."""

    class Meta(TaskOutput.Meta):
        fields = [*TaskOutput.Meta.fields, "is_gold", "gold"]


class TaskReviewerListOutput(TaskOutput):
    skip_count = serializers.IntegerField(read_only=True)
    needs_attention = serializers.BooleanField(read_only=True)
    agreement = serializers.FloatField(read_only=True, allow_null=True)

    class Meta(TaskOutput.Meta):
        fields = [*TaskOutput.Meta.fields, "skip_count", "needs_attention", "agreement"]


class TaskManagerListOutput(TaskManagerOutput):
    skip_count = serializers.IntegerField(read_only=True)
    needs_attention = serializers.BooleanField(read_only=True)
    agreement = serializers.FloatField(read_only=True, allow_null=True)

    class Meta(TaskManagerOutput.Meta):
        fields = [*TaskManagerOutput.Meta.fields, "skip_count", "needs_attention", "agreement"]


class TaskFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    contributor = serializers.CharField(
        required=False,
        max_length=150,
        help_text="A username: only tasks this person answered (reviewers and managers).",
    )
    external_id = serializers.CharField(required=False, max_length=200)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    # The data manager's search and filters (reviewers and managers; contributors get all).
    q = serializers.CharField(
        required=False, max_length=200, help_text="Text in the external id or the data, or an id."
    )
    gold = serializers.BooleanField(required=False, allow_null=True, default=None)
    skipped = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Skipped by someone, or not."
    )
    label = serializers.CharField(
        required=False, max_length=100, help_text="Boxes: a label some answer drew."
    )
    agreement_min = serializers.FloatField(required=False, min_value=0, max_value=1)
    agreement_max = serializers.FloatField(required=False, min_value=0, max_value=1)
    has_prediction = serializers.BooleanField(required=False, allow_null=True, default=None)
    needs_attention = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only open tasks that everyone eligible skipped, or skipped as broken media.",
    )
    sort = serializers.ChoiceField(
        choices=["id", "-id", "priority", "-priority", "answers", "-answers", "agreement",
                 "-agreement", "-skips", "-updated"],
        required=False,
        help_text="Oldest first by default.",
    )  # fmt: skip


class TaskBulkInput(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["mark_gold", "unmark_gold", "requeue", "raise_priority", "delete"]
    )
    tasks = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=10_000,
    )
    by = serializers.IntegerField(
        required=False, min_value=1, max_value=1_000_000, help_text="raise_priority: how much."
    )
    result = serializers.JSONField(
        required=False, help_text="mark_gold, one task: the gold answer, in the kind's shape."
    )
    annotation = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="mark_gold, one task: make this answer of it the gold one.",
    )


class TaskBulkOutput(serializers.Serializer):
    action = serializers.CharField()
    changed = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.DictField(
        child=serializers.CharField(), help_text="Task id → why it was left as it was."
    )
    message = serializers.CharField()
