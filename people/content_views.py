"""Pages of content protection: the organization's categories and limits (admins), and a
member's own opt-outs. Writes go through :mod:`labelhub.content`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from labelhub.content import (
    categories_of,
    content_category_create,
    content_choices,
    content_opt_outs_set,
    content_policy_set,
)
from labelhub.models import OrganizationMember
from labelhub.permissions import organization_for


@require_http_methods(["GET", "POST"])
@login_required
def content_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's content categories (add its own) and the limits of sensitive work."""
    organization = organization_for(user=request.user, slug=slug)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "policy":
                content_policy_set(
                    organization=organization,
                    actor=request.user,
                    sensitive_minutes_per_day=request.POST.get("sensitive_minutes_per_day", ""),
                    sensitive_break_after=request.POST.get("sensitive_break_after", ""),
                )
                messages.success(request, "The limits are saved.")
            else:
                category = content_category_create(
                    organization=organization,
                    name=request.POST.get("name", ""),
                    label=request.POST.get("label", ""),
                    actor=request.user,
                )
                messages.success(request, f"Added {category.label}.")
        except ValidationError as error:
            errors = error.message_dict
        else:
            return redirect("people:content", slug=slug)
        organization.refresh_from_db()
    context = {
        "organization": organization,
        "categories": categories_of(organization),
        "errors": errors,
        "posted": request.POST,
    }
    return render(request, "people/content.html", context, status=422 if errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def content_preferences(request: HttpRequest, slug: str) -> HttpResponse:
    """The content categories a member chooses not to be shown in this organization."""
    organization = organization_for(user=request.user, slug=slug, admin=False)
    errors: list[str] = []
    if request.method == "POST":
        try:
            content_opt_outs_set(
                organization=organization,
                user=request.user,
                names=request.POST.getlist("category"),
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, "Your choices are saved; they apply from your next task.")
            return redirect("people:content-preferences", slug=slug)
    member = OrganizationMember.objects.get(organization=organization, user_id=request.user.pk)
    context = {
        "organization": organization,
        "choices": content_choices(
            categories=categories_of(organization), flags=member.content_opt_outs
        ),
        "errors": errors,
    }
    return render(
        request,
        "people/content_preferences.html",
        context,
        status=422 if errors else 200,
    )
