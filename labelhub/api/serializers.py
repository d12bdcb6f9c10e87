"""Input and output shapes of the project endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import kinds
from labelhub.content import BUILT_IN, categories_of, names_of
from labelhub.models import ProjectMember, Role

BUILT_IN_BITS = sum(c.flag for c in BUILT_IN)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class ProjectContentField(serializers.Field):
    """A project's content categories by name; an organization's own looked up once per
    serializer and organization."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            "Content categories every task of the project carries (e.g. violence, self-harm): "
            "contributors who opted out of one are not given the project's tasks, and its images "
            "are blurred until revealed.",
        )
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, project) -> list[str]:
        flags = project.content_flags
        if not flags & ~BUILT_IN_BITS:
            return names_of(flags, list(BUILT_IN))
        cache = self.root.__dict__.setdefault("_content_categories", {})
        if project.organization_id not in cache:
            cache[project.organization_id] = categories_of(project.organization_id)
        return names_of(flags, cache[project.organization_id])


def _content_input() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text="Names of content categories (built-in or the organization's own); replaces "
        "the project's list. Managers.",
    )


class ProjectOutput(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.CharField(source="organization.slug")
    name = serializers.CharField()
    kind = serializers.CharField()
    schema = serializers.JSONField()
    quality = serializers.JSONField(
        allow_null=True, help_text="The quality bars; null unless the caller manages the project."
    )
    instructions = serializers.CharField(help_text="Markdown.")
    content_categories = ProjectContentField()
    role = serializers.CharField(
        allow_null=True,
        help_text="The caller's role on the project (the first of `roles`).",
    )
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text="Every role the caller holds there: manager, reviewer, contributor, in order.",
    )
    archived_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a manager archived it (no work is handed out); null while it is live.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["role"] != Role.MANAGER:
            data["quality"] = None
        return data


class BacklogOutput(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="Submitted answers not yet judged.")
    oldest_seconds = serializers.FloatField(
        allow_null=True, help_text="How long the oldest of them has waited; null when none."
    )


class ProjectDetailOutput(ProjectOutput):
    judging = BacklogOutput(
        required=False,
        help_text=(
            "Managers only: the answers waiting for the quality step (standing, gold, consensus, "
            "routing, webhooks). A task is accepted, exported and delivered only once judged."
        ),
    )


class ProjectCreateInput(serializers.Serializer):
    organization = serializers.SlugField(
        required=False,
        help_text="The organization's slug; may be left out by an admin of only one organization.",
    )
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=[])
    schema = serializers.JSONField(required=False, help_text="Defaults to the kind's schema.")
    quality = serializers.JSONField(required=False, help_text="Missing bars take defaults.")
    instructions = serializers.CharField(required=False, allow_blank=True, default="")
    content_categories = _content_input()
    if_exists = serializers.ChoiceField(
        choices=["error", "return"],
        default="error",
        help_text=(
            "`return`: if the caller already has a project of this name in the organization, "
            "answer 200 with it (its settings unchanged) instead of a 400; safe under retries "
            "and concurrent runs (API 1.2)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds.choices()


class ProjectUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(
        choices=[], required=False, help_text="Only while the project has no tasks."
    )
    schema = serializers.JSONField(required=False)
    quality = serializers.JSONField(required=False, help_text="Bars left out keep their values.")
    instructions = serializers.CharField(required=False, allow_blank=True)
    content_categories = _content_input()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds.choices()


class MemberInput(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = ProjectMember
        fields = ["id", "username", "role", "added_at"]


class MemberPageOutput(serializers.Serializer):
    results = MemberOutput(many=True)
    cursor = serializers.CharField(allow_null=True, help_text="Send back as `cursor` for more.")
    next = serializers.URLField(allow_null=True, help_text="The next page, while there is more.")


class ProjectPageOutput(serializers.Serializer):
    results = ProjectOutput(many=True)
    cursor = serializers.CharField(allow_null=True, help_text="Send back as `cursor` for more.")
    next = serializers.URLField(allow_null=True, help_text="The next page, while there is more.")


class ProjectDeleteInput(serializers.Serializer):
    confirmation = serializers.CharField(
        help_text="The project's name, typed out: deleting removes its tasks, answers and exports."
    )


class ProjectDuplicateInput(serializers.Serializer):
    name = serializers.CharField(
        max_length=200, required=False, help_text='Defaults to "<name> (copy)".'
    )
