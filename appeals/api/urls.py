from django.urls import path

from appeals.api import views

urlpatterns = [
    path("appeals/", views.AppealListView.as_view(), name="api-appeals"),
    path("appeals/<int:appeal_id>/", views.AppealDetailView.as_view(), name="api-appeal"),
    path(
        "appeals/<int:appeal_id>/decision/",
        views.AppealDecisionView.as_view(),
        name="api-appeal-decision",
    ),
]
