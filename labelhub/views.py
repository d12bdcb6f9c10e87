"""Pages of the core: the home page with a person's projects by role, and their account."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from labelhub.accounts import api_token_create, api_token_for, api_token_revoke
from labelhub.selectors import home_groups_for_user


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    groups = home_groups_for_user(user=request.user, search=search)
    template = "labelhub/home.html"
    if getattr(request, "htmx", False):
        template += "#project-groups"
    return render(request, template, {"groups": groups, "search": search})


@require_http_methods(["GET", "POST"])
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The person's account: organizations, password link, and the API token (make / revoke)."""
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create-token":
            new_key = api_token_create(user=request.user).key
            messages.success(request, "New API token made. Copy it now: it is shown only once.")
        elif action == "revoke-token":
            if api_token_revoke(user=request.user):
                messages.success(
                    request, "API token revoked. Scripts using it are refused from now on."
                )
            return redirect("account")
        else:
            return HttpResponse("Unknown action.", status=400)
    token = api_token_for(user=request.user)
    memberships = request.user.organization_memberships.select_related("organization")
    context = {"token": token, "new_key": new_key, "memberships": memberships}
    return render(request, "labelhub/account.html", context)
