from django.urls import path

from pay import api

urlpatterns = [
    path("projects/<int:project_id>/pay/", api.ProjectPayApi.as_view(), name="api-project-pay"),
    path(
        "projects/<int:project_id>/pay/backpay/",
        api.ProjectBackpayApi.as_view(),
        name="api-project-pay-backpay",
    ),
    path(
        "projects/<int:project_id>/pay/ledger/",
        api.ProjectLedgerApi.as_view(),
        name="api-project-pay-ledger",
    ),
    path("organizations/<slug:slug>/pay/", api.OrganizationPayApi.as_view(), name="api-org-pay"),
    path(
        "organizations/<slug:slug>/statements/",
        api.StatementsApi.as_view(),
        name="api-org-statements",
    ),
    path("organizations/<slug:slug>/payouts/", api.PayoutsApi.as_view(), name="api-org-payouts"),
]
