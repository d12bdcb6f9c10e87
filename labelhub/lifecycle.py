"""A project's life on the pages: archive, unarchive, duplicate, delete (managers).

Each is a POST through :mod:`labelhub.services` (the API calls the same functions); deleting asks
for the project's name on its own page first.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from labelhub.permissions import project_for
from labelhub.services import (
    project_archive,
    project_delete,
    project_duplicate,
    project_unarchive,
)


@require_POST
@login_required
def project_archive_view(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    project_archive(project=project, actor=request.user)
    messages.success(
        request, f"“{project.name}” is archived: contributors no longer see it or get its tasks."
    )
    return redirect("projects:detail", project_id=project.pk)


@require_POST
@login_required
def project_unarchive_view(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    project_unarchive(project=project, actor=request.user)
    messages.success(request, f"“{project.name}” is live again.")
    return redirect("projects:detail", project_id=project.pk)


@require_POST
@login_required
def project_duplicate_view(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        copy = project_duplicate(project=project, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("projects:detail", project_id=project.pk)
    messages.success(request, f"“{copy.name}” has the settings and people of “{project.name}”.")
    return redirect("projects:settings", project_id=copy.pk)


@require_http_methods(["GET", "POST"])
@login_required
def project_delete_view(request: HttpRequest, project_id: int) -> HttpResponse:
    """The confirmation (type the name) and the deletion itself."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    errors: list[str] = []
    if request.method == "POST":
        name = project.name
        try:
            project_delete(
                project=project,
                actor=request.user,
                confirmation=request.POST.get("confirmation", ""),
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"“{name}” and all its data are deleted.")
            return redirect("home")
    counts = {
        "tasks": project.tasks.count(),
        "answers": project.assignments.filter(status="submitted").count(),
    }
    return render(
        request,
        "labelhub/project_delete.html",
        {"project": project, "counts": counts, "errors": errors},
        status=422 if errors else 200,
    )
