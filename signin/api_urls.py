"""The sign-in app's API routes, included under ``/api/v1/``."""

from django.urls import path

from signin.api import ProviderConfigApi, ScimTokenApi

urlpatterns = [
    path(
        "organizations/<slug:slug>/sign-in/",
        ProviderConfigApi.as_view(),
        name="api-org-sign-in",
    ),
    path(
        "organizations/<slug:slug>/sign-in/scim-token/",
        ScimTokenApi.as_view(),
        name="api-org-sign-in-scim-token",
    ),
]
