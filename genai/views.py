"""Live mode's two routes: the manager's model connection page, and the contributor's turn.

Access: ``project_for`` (404 for anything not theirs); a turn also needs the caller to hold the
assignment (404 otherwise, like the queue's own routes).
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotation.models import Assignment
from genai.client import ChatRequest, ModelFailed, chat_stream
from genai.forms import LiveModelForm
from genai.services import (
    KEEP,
    LiveTurnRefused,
    live_model_for,
    live_model_save,
    live_turn_check,
    live_turn_events,
)
from labelhub.forms import add_service_errors
from labelhub.permissions import project_for


def _try_model(live) -> tuple[bool, str]:
    """Ask the model for a word, to show the manager that the connection works."""
    request = ChatRequest(
        endpoint=live.endpoint,
        model=live.model,
        api_key=live.api_key,
        temperature=0.0,
        max_tokens=16,
        messages=[{"role": "user", "content": "Reply with the word OK."}],
    )
    try:
        reply = "".join(chat_stream(request)).strip()
    except ModelFailed as failure:
        return False, str(failure)
    return True, f"The model answered: “{reply[:200]}”"


@require_http_methods(["GET", "POST"])
@login_required
def model_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    """Connect a conversation project to the customer's model (managers)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    # Live mode writes a kind's data (conversations): the kind says whether it has one.
    if not getattr(project.installed_kind, "live_mode", False):
        context = {"project": project, "unavailable": True}
        return render(request, "genai/model_settings.html", context, status=200)
    live = live_model_for(project=project)
    initial = (
        {k: getattr(live, k) for k in ("enabled", "base_url", "model", "temperature", "max_tokens")}
        if live
        else {}
    )
    form = LiveModelForm(request.POST or None, initial=initial)
    tried = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        key = "" if data["remove_key"] else (data["api_key"] or KEEP)
        try:
            live = live_model_save(
                project=project,
                actor=request.user,
                enabled=data["enabled"],
                base_url=data["base_url"],
                model=data["model"],
                temperature=data["temperature"],
                max_tokens=data["max_tokens"],
                api_key=key,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.POST.get("action") == "try":
                tried = _try_model(live)
            else:
                messages.success(request, "Saved.")
                return redirect("genai:model-settings", project_id=project.pk)
    context = {"project": project, "form": form, "live": live, "tried": tried}
    status = 422 if form.errors else 200
    return render(request, "genai/model_settings.html", context, status=status)


@require_POST
@login_required
def live_turn(request: HttpRequest, project_id: int, assignment_id: int) -> HttpResponse:
    """Send the contributor's turn to the model; the reply streams back (text/event-stream)."""
    project = project_for(user=request.user, project_id=project_id, action="label")
    try:
        assignment = Assignment.objects.select_related("project").get(
            pk=assignment_id, project=project, contributor=request.user
        )
    except Assignment.DoesNotExist:
        raise Http404("No such assignment.") from None
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        return JsonResponse({"detail": "Send JSON: {content}.", "code": "bad_json"}, status=400)
    try:
        turn = live_turn_check(
            assignment=assignment, content=body.get("content") if isinstance(body, dict) else None
        )
    except LiveTurnRefused as refusal:
        return JsonResponse({"detail": str(refusal), "code": refusal.code}, status=refusal.status)
    response = StreamingHttpResponse(live_turn_events(turn), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies: pass the events on as they come
    return response
