"""Appeal pages: filing from My work and the work screen, the queue and one appeal for the
deciders. Thin: each view checks access with ``project_for`` (404 for anything not theirs),
calls one selector or service, and renders or redirects."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotation.models import ProjectContributor
from appeals import selectors, services
from appeals.models import COMMENT_LIMIT, REASON_LIMIT, Appeal
from labelhub.permissions import can_manage, project_for


@require_POST
@login_required
def file_rejection(request: HttpRequest, project_id: int, annotation_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="label")
    try:
        services.appeal_file_rejection(
            annotation_id=annotation_id,
            user=request.user,
            comment=request.POST.get("comment", ""),
            project=project,
        )
    except ValidationError as error:
        messages.error(request, "Not sent: " + " ".join(error.messages))
    else:
        messages.success(
            request, "Your appeal is sent: the project's managers and reviewers will decide."
        )
    return redirect("quality:my-work", project_id=project.pk)


@require_http_methods(["GET", "POST"])
@login_required
def file_pause(request: HttpRequest, project_id: int) -> HttpResponse:
    """The pause's reason and a form to appeal it (the work screen and My work link here)."""
    project = project_for(user=request.user, project_id=project_id, action="label")
    pc = ProjectContributor.objects.filter(project=project, user_id=request.user.pk).first()
    error = ""
    if request.method == "POST":
        try:
            services.appeal_file_pause(
                project=project, user=request.user, comment=request.POST.get("comment", "")
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, "Your appeal of the pause is sent: a manager will decide.")
            return redirect("quality:my-work", project_id=project.pk)
    context = {
        "project": project,
        "pc": pc,
        "can_appeal": services.appealable_pause(pc=pc),
        "error": error,
        "comment": request.POST.get("comment", ""),
        "limit": COMMENT_LIMIT,
    }
    return render(request, "appeals/pause.html", context, status=422 if error else 200)


@require_GET
@login_required
def queue(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="review")
    reviewer = _reviewer_only(request, project)
    appeals = selectors.appeals_queue(project=project, reviewer=reviewer)
    context = {
        "project": project,
        "appeals": appeals,
        "open_count": sum(1 for a in appeals if a.is_open),
        "is_manager": reviewer is None,
    }
    return render(request, "appeals/queue.html", context)


def _reviewer_only(request, project):
    """The caller when they review the project without managing it (what they may hear is
    narrower: :func:`appeals.selectors._for_reviewer`); None for a manager."""
    return None if can_manage(user=request.user, project=project) else request.user


def _appeal_page(request, project, appeal_id: int, *, errors=None, status: int = 200):
    try:
        page = selectors.appeal_page(
            project=project, appeal_id=appeal_id, reviewer=_reviewer_only(request, project)
        )
    except Appeal.DoesNotExist:
        raise Http404("No such appeal.") from None
    errors = errors or {}
    context = {
        "project": project,
        "page": page,
        "appeal": page.appeal,
        "item": page,  # the cards' partials read ``item.view``
        "task": page.appeal.rejection.annotation.task if page.appeal.rejection else None,
        "not_yours": services.may_decide(appeal=page.appeal, user=request.user),
        "errors": errors,
        "error": " ".join(m for key, ms in errors.items() if key != "reason" for m in ms),
        "reason": request.POST.get("reason", ""),
        "limit": REASON_LIMIT,
    }
    return render(request, "appeals/appeal.html", context, status=status)


@require_GET
@login_required
def appeal(request: HttpRequest, project_id: int, appeal_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="review")
    return _appeal_page(request, project, appeal_id)


@require_POST
@login_required
def decide(request: HttpRequest, project_id: int, appeal_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="review")
    try:
        # Only an appeal the caller may open (the same 404 otherwise).
        selectors.appeal_page(
            project=project, appeal_id=appeal_id, reviewer=_reviewer_only(request, project)
        )
        decided = services.appeal_decide(
            appeal_id=appeal_id,
            project=project,
            actor=request.user,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except Appeal.DoesNotExist:
        raise Http404("No such appeal.") from None
    except ValidationError as error:
        return _appeal_page(request, project, appeal_id, errors=error.message_dict, status=422)
    except services.AppealRefusal as refusal:
        messages.error(request, refusal.message)
        return redirect("appeals:appeal", project_id=project.pk, appeal_id=appeal_id)
    messages.success(
        request,
        f"Appeal {decided.pk} {decided.get_status_display().lower()}: "
        f"{decided.contributor.get_username()} sees the decision and your reason.",
    )
    return redirect(reverse("appeals:queue", args=[project.pk]))
