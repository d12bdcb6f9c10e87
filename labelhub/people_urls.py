"""Routes of the People pages (namespace ``people``)."""

from django.urls import path

from labelhub import people_views as views

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
]
