"""The site's URLs: every app's pages, the admin and the API (``config.api_urls``).

The project pages' namespace (``projects:``) gathers labelhub's settings and lifecycle pages and
annotation's project page, which reads the queue.
"""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from annotation.views import project_detail
from config.home import home
from labelhub import lifecycle, views

project_patterns = [
    path("new/", views.project_new, name="new"),
    path("<int:project_id>/", project_detail, name="detail"),
    path("<int:project_id>/settings/", views.project_settings, name="settings"),
    path("<int:project_id>/audit/", views.project_audit, name="audit"),
    path("<int:project_id>/archive/", lifecycle.project_archive_view, name="archive"),
    path("<int:project_id>/unarchive/", lifecycle.project_unarchive_view, name="unarchive"),
    path("<int:project_id>/duplicate/", lifecycle.project_duplicate_view, name="duplicate"),
    path("<int:project_id>/delete/", lifecycle.project_delete_view, name="delete"),
    path(
        "<int:project_id>/settings/general/",
        views.project_settings_general,
        name="settings-general",
    ),
    path(
        "<int:project_id>/settings/schema/", views.project_settings_schema, name="settings-schema"
    ),
    path(
        "<int:project_id>/settings/quality/",
        views.project_settings_quality,
        name="settings-quality",
    ),
    path(
        "<int:project_id>/settings/content/",
        views.project_settings_content,
        name="settings-content",
    ),
    path(
        "<int:project_id>/settings/instructions/",
        views.project_settings_instructions,
        name="settings-instructions",
    ),
    path(
        "<int:project_id>/settings/instructions/preview/",
        views.project_instructions_preview,
        name="instructions-preview",
    ),
    path("<int:project_id>/settings/members/", views.project_member_create, name="member-add"),
    path(
        "<int:project_id>/settings/members/<int:member_id>/",
        views.project_member_update,
        name="member-role",
    ),
    path(
        "<int:project_id>/settings/members/<int:member_id>/remove/",
        views.project_member_delete,
        name="member-remove",
    ),
]

urlpatterns = [
    # The API first: scripts call it hundreds of times a second, and a path is matched against
    # the patterns in order (no site page lives under api/v1/).
    path("api/v1/", include("config.api_urls")),
    path("", home, name="home"),
    path("account/", views.account, name="account"),
    path("projects/", include((project_patterns, "projects"))),
    path("", include("people.urls")),
    path("", include("signin.urls")),
    path("accounts/", include("signin.auth_urls")),  # auth's, its log-in knowing passwords off
    path("", include("annotation.urls")),
    path("", include("quality.urls")),
    path("", include("exports.urls")),
    path("", include("genai.urls")),
    path("", include("backends.urls")),
    path("", include("pay.urls")),
    path("", include("appeals.urls")),
    path("", include("sandbox.urls")),
    path("", include("evals.urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url="/static/img/favicon.svg", permanent=True)),
]
