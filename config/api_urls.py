"""The public REST API under /api/v1/.

The routes are a public contract (customers' scripts depend on them; docs/api.md lists them):
change a path or a JSON shape only by adding to it. Each route is registered once.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from exports.api import (
    ExportApi,
    ExportJobDetailApi,
    ExportJobDownloadApi,
    ExportJobListApi,
    ResultFeedApi,
    WebhookDeliveryListApi,
)
from labelhub.api import tokens, views
from people.api import content, skills
from people.api import members as people

urlpatterns = [
    path("", include("annotation.api.urls")),
    path("", include("quality.api.urls")),
    path("", include("backends.api_urls")),
    path("", include("genai.api_urls")),
    path("", include("pay.api_urls")),
    path("", include("appeals.api.urls")),
    path("", include("sandbox.api_urls")),
    path("", include("signin.api_urls")),
    path("", include("evals.api_urls")),
    path("auth/token/", tokens.TokenObtainApi.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("projects/", views.ProjectListApi.as_view(), name="api-projects"),
    path("projects/<int:project_id>/", views.ProjectDetailApi.as_view(), name="api-project"),
    path(
        "projects/<int:project_id>/archive/",
        views.ProjectArchiveApi.as_view(),
        name="api-project-archive",
    ),
    path(
        "projects/<int:project_id>/unarchive/",
        views.ProjectUnarchiveApi.as_view(),
        name="api-project-unarchive",
    ),
    path(
        "projects/<int:project_id>/duplicate/",
        views.ProjectDuplicateApi.as_view(),
        name="api-project-duplicate",
    ),
    path(
        "projects/<int:project_id>/members/",
        views.ProjectMemberCreateApi.as_view(),
        name="api-project-members",
    ),
    path(
        "projects/<int:project_id>/members/<int:member_id>/",
        views.ProjectMemberDetailApi.as_view(),
        name="api-project-member",
    ),
    path(
        "organizations/<slug:slug>/members/",
        people.OrganizationMemberListApi.as_view(),
        name="api-org-members",
    ),
    path(
        "organizations/<slug:slug>/members/<int:user_id>/",
        people.OrganizationMemberDetailApi.as_view(),
        name="api-org-member",
    ),
    path(
        "organizations/<slug:slug>/invitations/",
        people.InvitationListApi.as_view(),
        name="api-org-invitations",
    ),
    path(
        "organizations/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        people.InvitationRevokeApi.as_view(),
        name="api-org-invitation-revoke",
    ),
    path("organizations/<slug:slug>/skills/", skills.SkillListApi.as_view(), name="api-org-skills"),
    path(
        "organizations/<slug:slug>/profiles/",
        skills.ProfileListApi.as_view(),
        name="api-org-profiles",
    ),
    path(
        "organizations/<slug:slug>/profiles/<int:user_id>/",
        skills.ProfileDetailApi.as_view(),
        name="api-org-profile",
    ),
    path(
        "organizations/<slug:slug>/content-categories/",
        content.ContentCategoryListApi.as_view(),
        name="api-org-content-categories",
    ),
    path(
        "organizations/<slug:slug>/content-preferences/",
        content.ContentPreferencesApi.as_view(),
        name="api-org-content-preferences",
    ),
    path(
        "organizations/<slug:slug>/content-policy/",
        content.ContentPolicyApi.as_view(),
        name="api-org-content-policy",
    ),
    path(
        "projects/<int:project_id>/requirements/",
        skills.ProjectRequirementsApi.as_view(),
        name="api-project-requirements",
    ),
    path(
        "projects/<int:project_id>/join/",
        skills.ProjectJoinApi.as_view(),
        name="api-project-join",
    ),
    path("projects/<int:project_id>/export/", ExportApi.as_view(), name="api-project-export"),
    path(
        "projects/<int:project_id>/exports/",
        ExportJobListApi.as_view(),
        name="api-project-exports",
    ),
    path("exports/<int:export_id>/", ExportJobDetailApi.as_view(), name="api-export"),
    path(
        "exports/<int:export_id>/download/",
        ExportJobDownloadApi.as_view(),
        name="api-export-download",
    ),
    path(
        "projects/<int:project_id>/results/",
        ResultFeedApi.as_view(),
        name="api-project-results",
    ),
    path(
        "projects/<int:project_id>/webhooks/",
        WebhookDeliveryListApi.as_view(),
        name="api-project-webhooks",
    ),
]
