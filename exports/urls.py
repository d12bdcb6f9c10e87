from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("projects/<int:project_id>/export/", views.export_page, name="export"),
    path(
        "projects/<int:project_id>/export/<int:job_id>/",
        views.export_job_status,
        name="job-status",
    ),
    path(
        "projects/<int:project_id>/export/<int:job_id>/download/",
        views.export_job_download,
        name="job-download",
    ),
    path("projects/<int:project_id>/webhooks/", views.webhook_log, name="webhooks"),
    path(
        "projects/<int:project_id>/webhooks/<int:delivery_id>/send-again/",
        views.webhook_send_again,
        name="webhook-resend",
    ),
]
