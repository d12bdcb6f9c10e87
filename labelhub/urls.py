from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from labelhub import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("annotation.urls")),
    path("", include("quality.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("labelhub.api.urls")),
    path("favicon.ico", RedirectView.as_view(url="/static/img/favicon.svg", permanent=True)),
]
