"""Project endpoints: one class per endpoint, each with its own input and output serializers."""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.api import examples
from labelhub.api.serializers import (
    MemberInput,
    MemberOutput,
    ProjectCreateInput,
    ProjectDeleteInput,
    ProjectDetailOutput,
    ProjectDuplicateInput,
    ProjectOutput,
    ProjectUpdateInput,
)
from labelhub.content import project_content_set
from labelhub.events import project_figures
from labelhub.models import Role
from labelhub.permissions import project_for, roles_in_order, roles_on
from labelhub.selectors import project_list_for_user
from labelhub.services import (
    organizations_where_admin,
    project_archive,
    project_create,
    project_delete,
    project_duplicate,
    project_member_add,
    project_unarchive,
    project_update,
)

NOT_FOUND = OpenApiResponse(description="No such project, or not one of the caller's.")
INVALID = OpenApiResponse(description="Errors by field path, e.g. `schema.labels.0.hotkey`.")


def _with_role(project, user):
    project.roles = roles_in_order(roles_on(user=user, project=project))
    project.role = project.roles[0] if project.roles else None
    return project


class ProjectListApi(APIView):
    @extend_schema(
        operation_id="projects_list",
        summary="The caller's projects",
        responses=ProjectOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        projects = project_list_for_user(user=request.user)
        return Response(ProjectOutput(projects, many=True).data)

    @extend_schema(
        examples=examples.PROJECT_CREATE,
        operation_id="projects_create",
        summary="Create a project (organization admins); the caller becomes its manager",
        request=ProjectCreateInput,
        responses={201: ProjectOutput, 400: INVALID},
    )
    def post(self, request: Request) -> Response:
        given = ProjectCreateInput(data=request.data)
        given.is_valid(raise_exception=True)
        values = dict(given.validated_data)
        slug = values.pop("organization", None)
        content = values.pop("content_categories", None)
        admin_of = organizations_where_admin(user=request.user)
        if slug is not None:
            organization = next((org for org in admin_of if org.slug == slug), None)
        else:
            organization = admin_of[0] if len(admin_of) == 1 else None
        if organization is None:
            message = (
                "Give the slug of an organization where you are an administrator."
                if admin_of
                else "Only administrators of an organization create projects."
            )
            return Response({"organization": [message]}, status=status.HTTP_400_BAD_REQUEST)
        with transaction.atomic():
            project = project_create(user=request.user, organization=organization, **values)
            if content:
                project = project_content_set(project=project, names=content, actor=request.user)
        return Response(
            ProjectOutput(_with_role(project, request.user)).data, status=status.HTTP_201_CREATED
        )


class ProjectDetailApi(APIView):
    @extend_schema(
        operation_id="projects_retrieve",
        summary="One project",
        responses={200: ProjectDetailOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="view")
        body = dict(ProjectOutput(_with_role(project, request.user)).data)
        if body["role"] == Role.MANAGER:
            body.update(project_figures.collect(project=project))
        return Response(body)

    @extend_schema(
        operation_id="projects_partial_update",
        summary=(
            "Change a project's name, kind, schema, quality bars, instructions or content "
            "categories (managers)"
        ),
        request=ProjectUpdateInput,
        responses={200: ProjectOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = ProjectUpdateInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        values = dict(given.validated_data)
        content = values.pop("content_categories", None)
        with transaction.atomic():
            if values or content is None:
                project = project_update(actor=request.user, project=project, **values)
            if content is not None:
                project = project_content_set(project=project, names=content, actor=request.user)
        return Response(ProjectOutput(_with_role(project, request.user)).data)

    @extend_schema(
        operation_id="projects_destroy",
        summary="Delete a project with all its data (managers); its audit trail is kept",
        description=(
            "Send `confirmation` equal to the project's name (in the body, or as a query "
            "parameter). Tasks, answers, reviews, exports "
            "and files are gone at once, from the API and from exports; the audit log keeps its "
            "rows (with the project's name) and one more saying who deleted it."
        ),
        request=ProjectDeleteInput,
        responses={204: None, 400: INVALID, 404: NOT_FOUND},
    )
    def delete(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        # A DELETE body is not sent by every client: the query string may carry it instead.
        given = ProjectDeleteInput(data=request.data or request.query_params)
        given.is_valid(raise_exception=True)
        project_delete(
            project=project,
            actor=request.user,
            confirmation=given.validated_data["confirmation"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectArchiveApi(APIView):
    @extend_schema(
        operation_id="projects_archive",
        summary="Archive a project (managers): off contributors' home, the queue refuses work",
        request=None,
        responses={200: ProjectOutput, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        project = project_archive(project=project, actor=request.user)
        return Response(ProjectOutput(_with_role(project, request.user)).data)


class ProjectUnarchiveApi(APIView):
    @extend_schema(
        operation_id="projects_unarchive",
        summary="Bring an archived project back (managers)",
        request=None,
        responses={200: ProjectOutput, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        project = project_unarchive(project=project, actor=request.user)
        return Response(ProjectOutput(_with_role(project, request.user)).data)


class ProjectDuplicateApi(APIView):
    @extend_schema(
        operation_id="projects_duplicate",
        summary="A new project with this one's settings and people, without tasks",
        description=(
            "For managers of the project who are administrators of its organization (creating a "
            "project is theirs). The caller becomes a manager of the copy."
        ),
        request=ProjectDuplicateInput,
        responses={201: ProjectOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = ProjectDuplicateInput(data=request.data)
        given.is_valid(raise_exception=True)
        copy = project_duplicate(
            project=project, actor=request.user, name=given.validated_data.get("name")
        )
        return Response(
            ProjectOutput(_with_role(copy, request.user)).data, status=status.HTTP_201_CREATED
        )


class ProjectMemberCreateApi(APIView):
    @extend_schema(
        operation_id="projects_members_create",
        summary="Give a member of the organization a role on the project (managers)",
        request=MemberInput,
        responses={201: MemberOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = MemberInput(data=request.data)
        given.is_valid(raise_exception=True)
        member = project_member_add(actor=request.user, project=project, **given.validated_data)
        return Response(MemberOutput(member).data, status=status.HTTP_201_CREATED)
