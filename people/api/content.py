"""Content categories, a person's opt-outs and the limits of sensitive work.

``/api/v1/organizations/{slug}/content-categories/`` (members read, admins add),
``…/content-preferences/`` (the caller's own opt-outs in that organization) and
``…/content-policy/`` (members read, admins change the daily cap and the break). A project's own
categories are its ``content_categories`` (``/api/v1/projects/{id}/``).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.content import (
    categories_of,
    content_category_create,
    content_opt_outs_set,
    content_policy_set,
    names_of,
)
from labelhub.models import OrganizationMember
from labelhub.permissions import organization_for

NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see.")
INVALID = OpenApiResponse(description="Errors by field.")


class CategoryOutput(serializers.Serializer):
    name = serializers.CharField(help_text="What imports and the API use, e.g. self-harm.")
    label = serializers.CharField(help_text="What people read, e.g. Self-harm.")
    built_in = serializers.BooleanField(help_text="Every organization has the five built-ins.")


class CategoryInput(serializers.Serializer):
    name = serializers.CharField(max_length=40, help_text="Letters, digits and -.")
    label = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)


class ContentCategoryListApi(APIView):
    @extend_schema(
        operation_id="organizations_content_categories_list",
        summary="Content categories: the built-ins and the organization's own (members)",
        responses={200: CategoryOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug, admin=False)
        return Response(CategoryOutput(categories_of(organization), many=True).data)

    @extend_schema(
        operation_id="organizations_content_categories_create",
        summary="Add a content category of the organization's own (admins)",
        request=CategoryInput,
        responses={201: CategoryOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        given = CategoryInput(data=request.data)
        given.is_valid(raise_exception=True)
        category = content_category_create(
            organization=organization, actor=request.user, **given.validated_data
        )
        return Response(CategoryOutput(category).data, status=status.HTTP_201_CREATED)


class PreferencesOutput(serializers.Serializer):
    opted_out = serializers.ListField(
        child=serializers.CharField(),
        help_text="Categories the caller is never given tasks of, in this organization.",
    )


class PreferencesInput(serializers.Serializer):
    opted_out = serializers.ListField(
        child=serializers.CharField(max_length=40),
        allow_empty=True,
        help_text="The full list (replaces the old one); [] to opt out of nothing.",
    )


def _preferences(member: OrganizationMember) -> dict:
    categories = categories_of(member.organization_id)
    return {"opted_out": names_of(member.content_opt_outs, categories)}


class ContentPreferencesApi(APIView):
    def _member(self, request: Request, slug: str) -> OrganizationMember:
        organization = organization_for(user=request.user, slug=slug, admin=False)
        return OrganizationMember.objects.get(organization=organization, user_id=request.user.pk)

    @extend_schema(
        operation_id="organizations_content_preferences_retrieve",
        summary="The content categories the caller opted out of (their own)",
        responses={200: PreferencesOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(_preferences(self._member(request, slug)))

    @extend_schema(
        operation_id="organizations_content_preferences_update",
        summary="Choose the content categories the caller will not be shown (their own)",
        description="Takes effect on the next claim; a task already held stays theirs to skip.",
        request=PreferencesInput,
        responses={200: PreferencesOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def put(self, request: Request, slug: str) -> Response:
        member = self._member(request, slug)
        given = PreferencesInput(data=request.data)
        given.is_valid(raise_exception=True)
        member = content_opt_outs_set(
            organization=member.organization,
            user=request.user,
            names=given.validated_data["opted_out"],
        )
        return Response(_preferences(member))


class PolicySerializer(serializers.Serializer):
    sensitive_minutes_per_day = serializers.IntegerField(
        min_value=0,
        max_value=24 * 60,
        required=False,
        help_text="Minutes of work on sensitive tasks per person per day; 0 for no cap.",
    )
    sensitive_break_after = serializers.IntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        help_text="Suggest a break after this many sensitive tasks in a row; 0 never.",
    )


def _policy(organization) -> dict:
    return {
        "sensitive_minutes_per_day": organization.sensitive_minutes_per_day,
        "sensitive_break_after": organization.sensitive_break_after,
    }


class ContentPolicyApi(APIView):
    @extend_schema(
        operation_id="organizations_content_policy_retrieve",
        summary="The limits of sensitive work: daily cap and break (members)",
        responses={200: PolicySerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(_policy(organization_for(user=request.user, slug=slug, admin=False)))

    @extend_schema(
        operation_id="organizations_content_policy_partial_update",
        summary="Change the limits of sensitive work (admins)",
        request=PolicySerializer,
        responses={200: PolicySerializer, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        given = PolicySerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        organization = content_policy_set(
            organization=organization, actor=request.user, **given.validated_data
        )
        return Response(_policy(organization))
