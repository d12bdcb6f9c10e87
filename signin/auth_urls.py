"""Django's account pages (``django.contrib.auth.urls``, same paths and names), with the log-in and
password-reset pages that know about passwords off in place of Django's own."""

from django.contrib.auth import urls as auth_urls
from django.urls import path

from signin import views

REPLACED = {
    "login": path("login/", views.LoginView.as_view(), name="login"),
    "password_reset": path(
        "password_reset/", views.PasswordResetView.as_view(), name="password_reset"
    ),
}

urlpatterns = [REPLACED.get(pattern.name, pattern) for pattern in auth_urls.urlpatterns]
