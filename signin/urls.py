"""Routes of the sign-in app (namespace ``signin``) and SCIM (``signin-scim``); Django's account
pages, with the log-in and reset pages that know about passwords off, are in
:mod:`signin.auth_urls`."""

from django.urls import include, path

from signin import scim, views

signin_patterns = [
    # Outside /login/<slug>/: every slug is an organization's own link.
    path("sso/find/", views.find, name="find"),
    path("login/<slug:slug>/", views.start, name="start"),
    path("login/<slug:slug>/callback/", views.callback, name="callback"),
    path("organizations/<slug:slug>/people/sign-in/", views.settings_page, name="settings"),
    path(
        "organizations/<slug:slug>/people/sign-in/scim-token/",
        views.settings_scim_token,
        name="settings-scim-token",
    ),
    path(
        "organizations/<slug:slug>/people/sign-in/delete/",
        views.settings_delete,
        name="settings-delete",
    ),
]

urlpatterns = [
    path("", include((signin_patterns, "signin"))),
]

scim_patterns = [
    path("Users", scim.users, name="users"),
    path("Users/<int:user_id>", scim.user, name="user"),
]
urlpatterns.append(path("scim/v2/", include((scim_patterns, "signin-scim"))))
