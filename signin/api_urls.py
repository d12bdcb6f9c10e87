"""The sign-in app's API routes, included under ``/api/v1/``."""

from django.urls import path

from signin.api import ProviderConfigApi

urlpatterns = [
    path(
        "organizations/<slug:slug>/sign-in/",
        ProviderConfigApi.as_view(),
        name="api-org-sign-in",
    ),
]
