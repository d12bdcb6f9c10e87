"""An organization's people and invitations: ``/api/v1/organizations/{slug}/…`` (its admins).

One class per endpoint, each with its own input and output serializers. Anyone who is not an
admin of the organization gets 404, as for any other organization.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.models import Invitation, InvitationState
from labelhub.permissions import organization_for
from people.invitations import (
    DEFAULT_DAYS,
    MAX_DAYS,
    InviteRow,
    invitation_create_link,
    invitation_create_many,
    invitation_revoke,
    invitation_url,
)
from people.members import member_remove, member_set_admin, people_of

NOT_FOUND = OpenApiResponse(
    description="No such organization or person, or not one you administer."
)
INVALID = OpenApiResponse(description="Errors by field (`row 2, email` for a list of addresses).")


class PersonProjectRoleOutput(serializers.Serializer):
    id = serializers.IntegerField(source="project.pk")
    name = serializers.CharField(source="project.name")
    role = serializers.CharField()


class PersonStandingOutput(serializers.Serializer):
    submitted = serializers.IntegerField(
        help_text="Answers submitted on the organization's projects."
    )
    gold_answered = serializers.IntegerField()
    gold_accuracy = serializers.FloatField(allow_null=True, help_text="Mean score on gold, 0–1.")
    paused_on = serializers.IntegerField(help_text="Projects where their work is paused.")
    disqualified_on = serializers.IntegerField()
    summary = serializers.CharField(source="standing", help_text="The same in words.")


class PersonOutput(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    email = serializers.CharField(source="user.email")
    is_admin = serializers.BooleanField(source="member.is_admin")
    joined_at = serializers.DateTimeField(source="member.joined_at")
    projects = PersonProjectRoleOutput(many=True)
    last_active = serializers.DateTimeField(allow_null=True)
    standing = PersonStandingOutput(source="*")


class PersonUpdateInput(serializers.Serializer):
    is_admin = serializers.BooleanField(help_text="An admin manages the organization's people.")


def _row(organization, user_id: int):
    for row in people_of(organization=organization):
        if row.user.pk == user_id:
            return row
    return None


class OrganizationMemberListApi(APIView):
    @extend_schema(
        operation_id="organizations_members_list",
        summary="The organization's members, their projects and roles, and standing (admins)",
        responses={200: PersonOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        return Response(PersonOutput(people_of(organization=organization), many=True).data)


class OrganizationMemberDetailApi(APIView):
    @extend_schema(
        operation_id="organizations_members_partial_update",
        summary="Make a member an admin of the organization, or no longer one (admins)",
        request=PersonUpdateInput,
        responses={200: PersonOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, slug: str, user_id: int) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        given = PersonUpdateInput(data=request.data)
        given.is_valid(raise_exception=True)
        if _row(organization, user_id) is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        member_set_admin(
            organization=organization,
            user_id=user_id,
            is_admin=given.validated_data["is_admin"],
            actor=request.user,
        )
        return Response(PersonOutput(_row(organization, user_id)).data)

    @extend_schema(
        operation_id="organizations_members_destroy",
        summary="Remove a person from the organization, effective at once (admins)",
        description=(
            "Their roles on the organization's projects go, their leases are given back, their "
            "API token is deleted (it answers 401 from now on) and, if they belong to no other "
            "organization, their account is deactivated (their sessions end). Their answers, "
            "reviews and history stay, with their name. Refused (400) for the last admin or a "
            "project's only manager."
        ),
        request=None,
        responses={204: None, 400: INVALID, 404: NOT_FOUND},
    )
    def delete(self, request: Request, slug: str, user_id: int) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        if _row(organization, user_id) is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        member_remove(organization=organization, user_id=user_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField(help_text="Empty for a link.")
    link = serializers.BooleanField(source="is_link")
    is_admin = serializers.BooleanField()
    project = serializers.IntegerField(source="project_id", allow_null=True)
    role = serializers.CharField(help_text="The role on `project`; empty without one.")
    state = serializers.ChoiceField(choices=InvitationState.choices)
    use_count = serializers.IntegerField()
    max_uses = serializers.IntegerField(allow_null=True, help_text="Null: no limit.")
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    accepted_by = serializers.CharField(source="accepted_by.username", allow_null=True)


class InvitationCreatedOutput(InvitationOutput):
    url = serializers.CharField(
        help_text="The invitation's URL. Given only now: it is stored nowhere in clear."
    )


class InvitationCreateInput(serializers.Serializer):
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254),
        required=False,
        max_length=500,
        help_text="Addresses to invite, each by email (single use).",
    )
    email = serializers.CharField(max_length=254, required=False, help_text="One address.")
    link = serializers.BooleanField(
        default=False, help_text="Make a link instead (no email; `max_uses` uses)."
    )
    role = serializers.CharField(
        required=False,
        default="",
        help_text="contributor, reviewer or manager (on `project`), member or admin.",
    )
    project = serializers.IntegerField(required=False, allow_null=True, default=None)
    max_uses = serializers.IntegerField(required=False, allow_null=True, default=None)
    expires_in_days = serializers.IntegerField(
        required=False, default=DEFAULT_DAYS, min_value=1, max_value=MAX_DAYS
    )


def _invitations(organization):
    return Invitation.objects.filter(organization=organization).select_related(
        "project", "created_by", "accepted_by"
    )


class InvitationListApi(APIView):
    @extend_schema(
        operation_id="organizations_invitations_list",
        summary="The organization's invitations with their state (admins)",
        responses={200: InvitationOutput(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        return Response(InvitationOutput(_invitations(organization), many=True).data)

    @extend_schema(
        operation_id="organizations_invitations_create",
        summary="Invite by email (one or many) or make an invitation link (admins)",
        request=InvitationCreateInput,
        responses={201: InvitationCreatedOutput(many=True), 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        given = InvitationCreateInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        base_url = request.build_absolute_uri("/")
        if data["link"]:
            issued = [
                invitation_create_link(
                    organization=organization,
                    actor=request.user,
                    role=data["role"],
                    project=data["project"],
                    max_uses=data["max_uses"],
                    expires_in_days=data["expires_in_days"],
                )
            ]
        else:
            emails = list(data.get("emails") or []) + ([data["email"]] if data.get("email") else [])
            rows = [
                InviteRow(email=email, role=data["role"], project=data["project"] or "")
                for email in emails
            ]
            issued = invitation_create_many(
                organization=organization,
                actor=request.user,
                rows=rows,
                base_url=base_url,
                expires_in_days=data["expires_in_days"],
            )
        body = []
        for made in issued:
            made.invitation.url = invitation_url(base_url=base_url, token=made.token)
            body.append(InvitationCreatedOutput(made.invitation).data)
        return Response(body, status=status.HTTP_201_CREATED)


class InvitationRevokeApi(APIView):
    @extend_schema(
        operation_id="organizations_invitations_revoke",
        summary="Revoke an invitation: its link stops working (admins)",
        request=None,
        responses={200: InvitationOutput, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str, invitation_id: int) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        invitation = _invitations(organization).filter(pk=invitation_id).first()
        if invitation is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        invitation = invitation_revoke(invitation=invitation, actor=request.user)
        return Response(InvitationOutput(invitation).data)
