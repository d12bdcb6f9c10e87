"""Manager screens: export a project's data, follow big exports, and read the webhook log.

Every view asks :func:`project_for` for ``manage``: anyone else gets 404.
"""

from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotation.models import WebhookDelivery
from annotation.webhooks import project_webhook_secret, webhook_resend
from exports.forms import ExportForm
from exports.models import ExportJob, ExportStatus
from exports.services import (
    ExportFile,
    ExportRefused,
    export_formats,
    export_job_create,
    export_record,
    export_size,
    export_stream,
)
from labelhub.permissions import project_for
from labelhub.storage import stored_file_link

EXPORT_TEMPLATE = "exports/export.html"


def sync_limit() -> int:
    """Exports of up to this many items download at once; bigger ones run in the background."""
    return getattr(settings, "LABELHUB_EXPORT_SYNC_LIMIT", 5000)


def base_url_of(request: HttpRequest) -> str:
    """The address the export is asked at: its media links are made from it."""
    return request.build_absolute_uri("/").rstrip("/")


def streamed(export: ExportFile) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export.chunks, content_type=export.format.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def export_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """Choose a format and options; small exports download now, big ones become a job."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    formats = export_formats(project=project)
    form = ExportForm(request.POST or None, formats=formats)
    if request.method == "POST" and form.is_valid():
        options = replace(form.options(), base_url=base_url_of(request))
        name = form.cleaned_data["format"]
        try:
            if export_size(project=project, format_name=name, options=options) <= sync_limit():
                export = export_stream(project=project, format_name=name, options=options)
                event = export_record(
                    project=project,
                    user=request.user,
                    format_name=name,
                    options=options,
                    via="page",
                )
                return streamed(export.named(project=project, serial=f"d{event.pk}"))
            job = export_job_create(
                project=project, user=request.user, format_name=name, options=options
            )
        except ExportRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            messages.info(request, "The export is big: it runs in the background. Follow it below.")
            return redirect(f"{request.path}?job={job.pk}")
    context = {
        "project": project,
        "form": form,
        "jobs": ExportJob.objects.filter(project=project)[:10],
        "sync_limit": sync_limit(),
    }
    return render(request, EXPORT_TEMPLATE, context, status=422 if form.errors else 200)


@require_GET
@login_required
def export_job_status(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """One export's progress (polled by the page while it runs)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    job = get_object_or_404(ExportJob, pk=job_id, project=project)
    return render(request, f"{EXPORT_TEMPLATE}#job-status", {"project": project, "job": job})


@require_GET
@login_required
def export_job_download(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """The file of a finished export, for the project's managers only."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    job = get_object_or_404(ExportJob, pk=job_id, project=project)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404("This export has no file.")
    link = stored_file_link(job.file, content_type=job.content_type, download_as=job.filename)
    if link is not None:  # from the object store, by a short-lived link (see labelhub.storage)
        response = HttpResponseRedirect(link)
        response["Cache-Control"] = "private, no-store"
        return response
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=job.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def webhook_log(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's webhook deliveries, newest first, with their attempts and last answer."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    deliveries = WebhookDelivery.objects.filter(project=project).select_related("task")
    status = request.GET.get("status", "")
    if status:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "exports/webhooks.html",
        {
            "project": project,
            "page": page,
            "status": status,
            "secret": project_webhook_secret(project=project),
        },
    )


@require_POST
@login_required
def webhook_send_again(request: HttpRequest, project_id: int, delivery_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, project=project)
    copy = webhook_resend(delivery=delivery)
    messages.success(request, f"Delivery {delivery.pk} is sent again as delivery {copy.pk}.")
    return redirect("exports:webhooks", project_id=project.pk)
