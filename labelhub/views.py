"""Pages of the core: the home page with a person's projects by role."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

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
