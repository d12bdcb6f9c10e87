"""Project endpoints: one class per endpoint, each with its own input and output serializers."""

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.api import examples
from labelhub.api.cursor import (
    CursorPage,
    cursor_decode,
    cursor_encode,
    cursor_requested,
    page_size_of,
)
from labelhub.api.serializers import (
    MemberInput,
    MemberOutput,
    MemberPageOutput,
    MemberRoleInput,
    ProjectCreateInput,
    ProjectDeleteInput,
    ProjectDetailOutput,
    ProjectDuplicateInput,
    ProjectOutput,
    ProjectPageOutput,
    ProjectUpdateInput,
)
from labelhub.content import project_content_set
from labelhub.events import project_figures
from labelhub.models import ProjectMember, Role
from labelhub.permissions import project_for, roles_in_order, roles_on
from labelhub.selectors import project_list_for_user, project_member_list
from labelhub.services import (
    organizations_where_admin,
    project_archive,
    project_create,
    project_delete,
    project_duplicate,
    project_get_or_create,
    project_member_add,
    project_member_remove,
    project_member_set_role,
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
        description=(
            "A JSON list of every project, by organization and name; or, with `?cursor=` (empty "
            "for the first page; API 1.2), cursor pages in id order: `{next, cursor, results}` "
            "(`ProjectPageOutput`), `page_size` 1 to 1000 (100)."
        ),
        parameters=[
            OpenApiParameter("cursor", str, description="Empty for the first page, then `cursor`."),
            OpenApiParameter("page_size", int, description="With `cursor`: 1 to 1000 (100)."),
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="ProjectListOrPage",
                serializers=[ProjectOutput(many=True), ProjectPageOutput],
                resource_type_field_name=None,
                many=False,
            )
        },
    )
    def get(self, request: Request) -> Response:
        if not cursor_requested(request):
            projects = project_list_for_user(user=request.user)
            return Response(ProjectOutput(projects, many=True).data)
        position = cursor_decode(request.query_params["cursor"], keys=["id"])
        size = page_size_of(request)
        projects = project_list_for_user(
            user=request.user,
            after_id=int(position["id"]) if position else None,
            limit=size + 1,
        )
        more = len(projects) > size
        projects = projects[:size]
        cursor = cursor_encode({"id": projects[-1].pk}) if more else None
        page = CursorPage(ProjectOutput(projects, many=True).data, cursor)
        return Response(page.response_data(request))

    @extend_schema(
        examples=examples.PROJECT_CREATE,
        operation_id="projects_create",
        summary="Create a project (organization admins); the caller becomes its manager",
        request=ProjectCreateInput,
        responses={
            201: ProjectOutput,
            200: OpenApiResponse(
                ProjectOutput, description="`if_exists=return`: the existing one."
            ),
            400: INVALID,
        },
    )
    def post(self, request: Request) -> Response:
        given = ProjectCreateInput(data=request.data)
        given.is_valid(raise_exception=True)
        values = dict(given.validated_data)
        if_exists = values.pop("if_exists")
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
        if if_exists == "return":
            project, created = project_get_or_create(
                user=request.user, organization=organization, **values
            )
            if created and content:
                project = project_content_set(project=project, names=content, actor=request.user)
            return Response(
                ProjectOutput(_with_role(project, request.user)).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )
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
        operation_id="projects_members_list",
        summary="The project's members, one row per role (managers; API 1.2)",
        description="Cursor pages in id order: `?cursor=` (empty or left out for the first page).",
        parameters=[
            OpenApiParameter("cursor", str, description="Empty for the first page, then `cursor`."),
            OpenApiParameter("page_size", int, description="1 to 1000 (100)."),
        ],
        responses={200: MemberPageOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        position = cursor_decode(request.query_params.get("cursor", ""), keys=["id"])
        size = page_size_of(request)
        members = project_member_list(
            project=project, after_id=int(position["id"]) if position else None, limit=size + 1
        )
        more = len(members) > size
        members = members[:size]
        cursor = cursor_encode({"id": members[-1].pk}) if more else None
        page = CursorPage(MemberOutput(members, many=True).data, cursor)
        return Response(page.response_data(request))

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


class ProjectMemberDetailApi(APIView):
    @extend_schema(
        operation_id="projects_members_partial_update",
        summary="Change one of a member's roles (managers; API 1.2)",
        request=MemberRoleInput,
        responses={200: MemberOutput, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int, member_id: int) -> Response:
        member = self._member(request, project_id, member_id)
        given = MemberRoleInput(data=request.data)
        given.is_valid(raise_exception=True)
        member = project_member_set_role(
            member=member, role=given.validated_data["role"], actor=request.user
        )
        return Response(MemberOutput(member).data)

    @extend_schema(
        operation_id="projects_members_destroy",
        summary="Take one of a member's roles away (managers; API 1.2)",
        description="A project keeps at least one manager: removing the last is a 400 on `role`.",
        request=None,
        responses={204: None, 400: INVALID, 404: NOT_FOUND},
    )
    def delete(self, request: Request, project_id: int, member_id: int) -> Response:
        member = self._member(request, project_id, member_id)
        project_member_remove(member=member, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _member(request: Request, project_id: int, member_id: int) -> ProjectMember:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        member = (
            ProjectMember.objects.select_related("user", "project")
            .filter(project=project, pk=member_id)
            .first()
        )
        if member is None:
            raise NotFound("No such member of this project.")
        return member
