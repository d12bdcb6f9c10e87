"""Skills, profiles, a project's requirements and joining open projects.

``/api/v1/organizations/{slug}/skills/`` (members read, admins add), ``…/profiles/`` (admins:
everyone's, filtered by skill, level and language), ``…/profiles/{user_id}/`` (the person
themselves or an admin), ``/api/v1/projects/{id}/requirements/`` (managers) and
``/api/v1/projects/{id}/join/`` (a member the open project is offered to).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.models import (
    OrganizationMember,
    PersonSkill,
    Project,
    Skill,
    SkillLevel,
    Verification,
)
from labelhub.permissions import organization_for, project_for
from people.skills import (
    Need,
    level_from,
    people_matching,
    person_skill_remove,
    person_skill_set,
    person_skill_verify,
    profile_of,
    profile_update,
    project_join_open,
    project_requirements_set,
    requirements_of,
    skill_create,
)

NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see.")
INVALID = OpenApiResponse(description="Errors by field.")


class SkillOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    holders = serializers.IntegerField(source="holder_count", help_text="People who declared it.")


class SkillInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    description = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class SkillListApi(APIView):
    @extend_schema(
        operation_id="organizations_skills_list",
        summary="The organization's own list of skills (members)",
        responses={200: SkillOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug, admin=False)
        skills = list(Skill.objects.filter(organization=organization))
        counts = {}
        for skill_id in PersonSkill.objects.filter(skill__in=skills).values_list(
            "skill_id", flat=True
        ):
            counts[skill_id] = counts.get(skill_id, 0) + 1
        for skill in skills:
            skill.holder_count = counts.get(skill.pk, 0)
        return Response(SkillOutput(skills, many=True).data)

    @extend_schema(
        operation_id="organizations_skills_create",
        summary="Add a skill to the organization's list (admins)",
        request=SkillInput,
        responses={201: SkillOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        given = SkillInput(data=request.data)
        given.is_valid(raise_exception=True)
        skill = skill_create(organization=organization, actor=request.user, **given.validated_data)
        skill.holder_count = 0
        return Response(SkillOutput(skill).data, status=status.HTTP_201_CREATED)


class HeldSkillOutput(serializers.Serializer):
    skill = serializers.CharField(source="skill.name")
    level = serializers.SerializerMethodField()
    verification = serializers.ChoiceField(choices=Verification.choices)
    verified_by = serializers.CharField(source="verified_by.username", allow_null=True)
    verified_project = serializers.IntegerField(source="verified_project_id", allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)

    def get_level(self, held) -> str:
        return SkillLevel(held.level).label.lower()


class ProfileOutput(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    time_zone = serializers.CharField()
    skills = HeldSkillOutput(many=True, source="held")


class HeldSkillInput(serializers.Serializer):
    skill = serializers.CharField(max_length=60)
    level = serializers.CharField(
        allow_null=True, help_text="working, professional or expert (or 1–3); null removes it."
    )


class ProfileUpdateInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    languages = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    skills = HeldSkillInput(
        many=True,
        required=False,
        help_text="Levels to set: by the person, self-declared; by an admin, verified by them.",
    )
    verify = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        help_text="Admins: skills whose declared level they vouch for.",
    )


def _profile(organization, user):
    profile = profile_of(user=user)
    profile.held = list(
        PersonSkill.objects.filter(user_id=user.pk, skill__organization=organization)
        .select_related("skill", "verified_by")
        .order_by("skill__name")
    )
    return profile


def _need(text: str) -> Need:
    name, _, level = text.partition(":")
    return Need(skill=name.strip().lower(), level=level_from(level or 1))


class ProfileListApi(APIView):
    @extend_schema(
        operation_id="organizations_profiles_list",
        summary="Members' profiles and skills, filtered by what a project needs (admins)",
        parameters=[
            OpenApiParameter(
                "skill",
                OpenApiTypes.STR,
                many=True,
                description="`name` or `name:level` (level working, professional, expert); "
                "repeat for several (all must hold).",
            ),
            OpenApiParameter("language", OpenApiTypes.STR, many=True, description="e.g. `de`."),
            OpenApiParameter(
                "verified", OpenApiTypes.BOOL, description="Only skills not self-declared."
            ),
        ],
        responses={200: ProfileOutput(many=True), 400: INVALID, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        verified = request.query_params.get("verified") in ("true", "1")
        needs = [
            Need(skill=n.skill, level=n.level, verified_only=verified)
            for n in map(_need, request.query_params.getlist("skill"))
        ]
        users = people_matching(
            organization=organization,
            needs=needs,
            languages=request.query_params.getlist("language"),
        )
        return Response(
            ProfileOutput([_profile(organization, user) for user in users], many=True).data
        )


class ProfileDetailApi(APIView):
    def _target(self, request: Request, slug: str, user_id: int):
        organization = organization_for(user=request.user, slug=slug, admin=False)
        member = (
            OrganizationMember.objects.select_related("user")
            .filter(organization=organization, user_id=user_id)
            .first()
        )
        is_admin = OrganizationMember.objects.filter(
            organization=organization, user_id=request.user.pk, is_admin=True
        ).exists()
        if member is None or (user_id != request.user.pk and not is_admin):
            raise Http404("No such profile.")
        return organization, member.user

    @extend_schema(
        operation_id="organizations_profiles_retrieve",
        summary="One member's profile and skills (the person, or an admin)",
        responses={200: ProfileOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str, user_id: int) -> Response:
        organization, user = self._target(request, slug, user_id)
        return Response(ProfileOutput(_profile(organization, user)).data)

    @extend_schema(
        operation_id="organizations_profiles_partial_update",
        summary="Change a profile: its own fields (the person), skill levels, verifications",
        description=(
            "The person edits their display name, languages, time zone and skills "
            "(self-declared). An admin may set levels (verified by them) and `verify` declared "
            "ones; only the person changes their own display name, languages and time zone."
        ),
        request=ProfileUpdateInput,
        responses={200: ProfileOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, slug: str, user_id: int) -> Response:
        organization, user = self._target(request, slug, user_id)
        given = ProfileUpdateInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        own = {key: data[key] for key in ("display_name", "languages", "time_zone") if key in data}
        with transaction.atomic():
            if own:
                if user.pk != request.user.pk:
                    raise ValidationError({"profile": ["Only the person edits their profile."]})
                profile_update(user=user, **own)
            for held in data.get("skills", []):
                if held["level"] is None:
                    person_skill_remove(
                        organization=organization,
                        user=user,
                        skill=held["skill"],
                        actor=request.user,
                    )
                else:
                    person_skill_set(
                        organization=organization,
                        user=user,
                        skill=held["skill"],
                        level=held["level"],
                        actor=request.user,
                    )
            for name in data.get("verify", []):
                person_skill_verify(
                    organization=organization, user=user, skill=name, actor=request.user
                )
        return Response(ProfileOutput(_profile(organization, user)).data)


class RequirementOutput(serializers.Serializer):
    skill = serializers.CharField(source="skill.name")
    level = serializers.SerializerMethodField()
    verified_only = serializers.BooleanField()

    def get_level(self, requirement) -> str:
        return SkillLevel(requirement.min_level).label.lower()


class RequirementsOutput(serializers.Serializer):
    skills = RequirementOutput(many=True, source="needs")
    languages = serializers.ListField(child=serializers.CharField())
    is_open = serializers.BooleanField()


class RequirementInput(serializers.Serializer):
    skill = serializers.CharField(max_length=60)
    level = serializers.CharField(default="working", help_text="working, professional or expert.")
    verified_only = serializers.BooleanField(default=False)


class RequirementsInput(serializers.Serializer):
    skills = RequirementInput(many=True, default=list)
    languages = serializers.ListField(child=serializers.CharField(max_length=20), default=list)
    is_open = serializers.BooleanField(
        default=False, help_text="Offered to every member who meets the requirements."
    )


def _requirements(project: Project) -> dict:
    project.needs = requirements_of(project)
    return RequirementsOutput(project).data


class ProjectRequirementsApi(APIView):
    @extend_schema(
        operation_id="projects_requirements_retrieve",
        summary="What a project asks of contributors, and whether it is open (managers)",
        responses={200: RequirementsOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        return Response(_requirements(project))

    @extend_schema(
        operation_id="projects_requirements_update",
        summary="Replace a project's requirements and openness (managers)",
        request=RequirementsInput,
        responses={200: RequirementsOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def put(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = RequirementsInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        project = project_requirements_set(
            project=project,
            needs=[
                Need(skill=n["skill"], level=n["level"], verified_only=n["verified_only"])
                for n in data["skills"]
            ],
            languages=data["languages"],
            is_open=data["is_open"],
            actor=request.user,
        )
        return Response(_requirements(project))


class JoinOutput(serializers.Serializer):
    project = serializers.IntegerField(source="project_id")
    role = serializers.CharField()


class ProjectJoinApi(APIView):
    @extend_schema(
        operation_id="projects_join",
        summary="Join an open project as a contributor (members who meet its requirements)",
        request=None,
        responses={201: JoinOutput, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = Project.objects.select_related("organization").filter(pk=project_id).first()
        try:
            if project is None:
                raise ValidationError("No such project.")
            member = project_join_open(project=project, user=request.user)
        except ValidationError:
            raise Http404("No such project.") from None
        return Response(JoinOutput(member).data, status=status.HTTP_201_CREATED)
