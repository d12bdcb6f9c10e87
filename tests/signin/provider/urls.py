from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path

from tests.signin.provider.control import control, jwks

urlpatterns = [
    path("o/.well-known/jwks.json", jwks),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("control/", control),
    path("favicon.ico", lambda request: HttpResponse(status=204)),
]
