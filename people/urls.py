"""Routes of the People pages (namespace ``people``)."""

from django.urls import path

from people import content_views, skill_views, views

app_name = "people"
urlpatterns = [
    path("organizations/new/", views.organization_new, name="organization-new"),
    path("organizations/<slug:slug>/people/", views.people_list, name="list"),
    path(
        "organizations/<slug:slug>/people/<int:user_id>/admin/",
        views.person_admin,
        name="admin",
    ),
    path(
        "organizations/<slug:slug>/people/<int:user_id>/remove/",
        views.person_remove,
        name="remove",
    ),
    path("organizations/<slug:slug>/invitations/", views.invite, name="invite"),
    path("organizations/<slug:slug>/invitations/link/", views.invite_link, name="invite-link"),
    path(
        "organizations/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", views.accept, name="accept"),
    path("email/confirm/<str:token>/", views.email_verify, name="email-verify"),
    # profiles, skills, requirements, open projects
    path("organizations/<slug:slug>/profile/", skill_views.profile, name="profile"),
    path("organizations/<slug:slug>/skills/", skill_views.skills_page, name="skills"),
    # content protection
    path("organizations/<slug:slug>/content/", content_views.content_page, name="content"),
    path(
        "organizations/<slug:slug>/profile/content/",
        content_views.content_preferences,
        name="content-preferences",
    ),
    path("organizations/<slug:slug>/people/<int:user_id>/", skill_views.person, name="person"),
    path("projects/<int:project_id>/people/", skill_views.project_people, name="project-people"),
    path(
        "projects/<int:project_id>/people/requirements/",
        skill_views.project_requirements,
        name="project-requirements",
    ),
    path(
        "projects/<int:project_id>/people/add/",
        skill_views.project_people_add,
        name="project-people-add",
    ),
    path("projects/<int:project_id>/join/", skill_views.project_join, name="project-join"),
]
