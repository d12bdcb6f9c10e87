"""Eval sets, the models measured on them, judges, and what each said.

An eval set is a ``rubric_eval`` project in grade mode. Its prompts and rubrics are
:class:`EvalItem` rows; the models it measures are :class:`EvalModel` connections
(OpenAI-compatible endpoints, called through ``genai.client`` with its address guard); each
answer is a :class:`Response`. A response goes to people as a task of the project (blind: the
task holds the prompt, rubric and text, never the model) or is graded by a judge alone where the
judge is calibrated to be good enough (:class:`Calibration`); its final verdicts and score are
kept on the row (``settled_at``; ``stale`` when an input changed).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Task
from labelhub.encryption import EncryptedTextField
from labelhub.models import Project


class Endpoint(models.Model):
    """What an OpenAI-compatible chat endpoint needs, and how hard it may be called.

    ``api_key`` is a secret, encrypted at rest: pages and the API take a new one and never show
    it back.
    Prices are per million tokens, in the currency the manager counts in.
    """

    base_url = models.URLField(max_length=500)
    model = models.CharField(max_length=200)
    api_key = EncryptedTextField(blank=True, default="")  # encrypted at rest
    temperature = models.FloatField(default=0.0)
    max_tokens = models.PositiveIntegerField(default=1024)
    concurrency = models.PositiveSmallIntegerField(default=4)
    requests_per_minute = models.PositiveIntegerField(default=600)
    timeout_seconds = models.PositiveSmallIntegerField(default=60)
    max_retries = models.PositiveSmallIntegerField(default=2)
    price_input = models.FloatField(default=0.0)
    price_output = models.FloatField(default=0.0)

    class Meta:
        abstract = True

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def cost_of(self, *, prompt_tokens: int | None, completion_tokens: int | None) -> float:
        return (
            (prompt_tokens or 0) * self.price_input + (completion_tokens or 0) * self.price_output
        ) / 1_000_000


def endpoint_constraints(prefix: str) -> list:
    return [
        models.CheckConstraint(
            condition=Q(concurrency__gte=1, concurrency__lte=64), name=f"{prefix}_concurrency"
        ),
        models.CheckConstraint(
            condition=Q(timeout_seconds__gte=1, timeout_seconds__lte=600), name=f"{prefix}_timeout"
        ),
        models.CheckConstraint(condition=Q(max_retries__lte=10), name=f"{prefix}_retries"),
        models.CheckConstraint(
            condition=Q(price_input__gte=0, price_output__gte=0), name=f"{prefix}_price"
        ),
    ]


class EvalModel(Endpoint):
    """A model version measured on the eval set; ``name`` and ``version`` are how the
    leaderboard shows it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="eval_models")
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name", "version"], name="eval_model_unique"
            ),
            *endpoint_constraints("eval_model"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class EvalItem(models.Model):
    """One prompt of the eval set with its rubric (``kinds.rubric_eval`` shapes)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="eval_items")
    key = models.CharField(max_length=200)
    prompt = models.JSONField()
    rubric = models.JSONField()
    example_tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="eval_item_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class EvalRun(models.Model):
    """A background pass: models answering the prompts (``models``), or a judge version grading
    the responses (``judge_version``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="eval_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    eval_models = models.ManyToManyField(EvalModel, blank=True, related_name="runs")
    judge_version = models.ForeignKey(
        "JudgeVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cost = models.FloatField(default=0.0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Moved on as results come in: a running run whose heartbeat is older than its lease
    # (``evals.services.run_lease``) lost its worker and is taken over (it resumes).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Eval run {self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Route(models.TextChoices):
    WAITING = "", "Not routed yet"
    PEOPLE = "people", "Graded by people"
    JUDGE = "judge", "Graded by a judge alone"


class Response(models.Model):
    """One model's answer to one prompt, as collected by a run or imported."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="eval_responses")
    item = models.ForeignKey(EvalItem, on_delete=models.CASCADE, related_name="responses")
    eval_model = models.ForeignKey(
        EvalModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    model_name = models.CharField(max_length=100)
    version = models.CharField(max_length=100, blank=True, default="")
    run = models.ForeignKey(
        EvalRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    text = models.TextField()
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    cost = models.FloatField(null=True, blank=True)
    route = models.CharField(max_length=10, choices=Route.choices, blank=True, default="")
    verdicts = models.JSONField(default=dict, blank=True)  # final, per criterion id
    score = models.FloatField(null=True, blank=True)  # None until every criterion has a verdict
    tag_scores = models.JSONField(default=dict, blank=True)
    stale = models.BooleanField(default=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "model_name", "version"], name="eval_response_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "stale"], name="eval_response_stale"),
            models.Index(fields=["project", "route"], name="eval_response_route"),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} {self.version} on {self.item_id}"


class PeopleTask(models.Model):
    """A people's grading task of a response, and the criteria whose verdicts in it count.

    A response may have several: the first holds what no judge could grade when it was routed;
    when a judge goes away (stopped, a new version, deleted) or the rubric changes, another task
    holds the criteria nothing covers any more. ``criteria`` loses the ids of criteria a rubric
    re-import changed, so an old verdict never counts for a new criterion."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="people_tasks")
    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="eval_part")
    criteria = models.JSONField(default=list)  # criterion ids whose verdicts count
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Task {self.task_id} of response {self.response_id}"


class JudgeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"


class Judge(Endpoint):
    """A judge model: grades responses criterion by criterion through a versioned template.

    ``bar`` is the macro-F1 the *lower end* of a tag's 95% interval must reach (on at least
    ``min_items`` items both graded) before the judge grades that tag alone; ``human_share`` of
    its responses keeps going to people for ever, so drift shows.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="judges")
    name = models.CharField(max_length=100)
    bar = models.FloatField(default=0.75)
    min_items = models.PositiveIntegerField(default=30)
    human_share = models.FloatField(default=0.1)
    status = models.CharField(
        max_length=10, choices=JudgeStatus.choices, default=JudgeStatus.ACTIVE
    )
    stop_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="judge_name_unique"),
            models.CheckConstraint(condition=Q(bar__gte=0, bar__lte=1), name="judge_bar_range"),
            models.CheckConstraint(
                condition=Q(human_share__gte=0, human_share__lte=1), name="judge_share_range"
            ),
            *endpoint_constraints("judge"),
        ]

    def __str__(self) -> str:
        return self.name


class JudgeVersion(models.Model):
    """One version of a judge's grader prompt; grades and calibrations belong to a version.

    Its ``user`` is the contributor the judge works as (never able to log in): its standing on
    the project (paused with the reason when the judge is stopped) is a person's."""

    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    template = models.TextField()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judge_version"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["judge", "number"]
        constraints = [
            models.UniqueConstraint(fields=["judge", "number"], name="judge_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.judge.name} v{self.number}"


class JudgeGrade(models.Model):
    """A judge version's verdicts on one response (``error`` when it could not grade)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="judge_grades")
    judge_version = models.ForeignKey(JudgeVersion, on_delete=models.CASCADE, related_name="grades")
    verdicts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    cost = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "judge_version"], name="judge_grade_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.judge_version} on response {self.response_id}"


class Calibration(models.Model):
    """A judge version against the people's consensus on the items both graded: ``overall``,
    ``per_tag`` (criterion tags) and ``per_theme`` (the prompts' example tags) agreement
    (``kinds.rubric_eval.metrics.Agreement.as_dict`` plus ``passes``), the tags and themes it may
    grade alone, and its worst tag among those with at least ``min_items`` items."""

    judge_version = models.ForeignKey(
        JudgeVersion, on_delete=models.CASCADE, related_name="calibrations"
    )
    bar = models.FloatField()
    min_items = models.PositiveIntegerField()
    items = models.PositiveIntegerField()
    overall = models.JSONField()
    per_tag = models.JSONField(default=dict)
    passing_tags = models.JSONField(default=list)
    # Per example tag of the prompts (HealthBench's ``theme:…``), over those prompts' items.
    per_theme = models.JSONField(default=dict)
    passing_themes = models.JSONField(default=list)
    worst_tag = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Calibration of {self.judge_version} ({self.items} items)"
