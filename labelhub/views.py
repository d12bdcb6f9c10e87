"""Pages of the core: a new project, the manager's settings, the project's audit log, the account.

(The home page is ``config.home``, a project's own page ``annotation.views.project_detail``.)

Each settings section is its own small form that posts to its own URL. With htmx the section
alone is swapped (status 422 and the errors when the input is refused); without JavaScript the same
forms post normally and the whole page comes back. Writes go through :mod:`labelhub.services`.
"""

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelhub.accounts import api_token_create, api_token_for, api_token_revoke
from labelhub.content import categories_of, content_choices, project_content_set
from labelhub.email_addresses import email_address_is_verified, email_address_send_verification
from labelhub.forms import (
    InstructionsForm,
    MemberAddForm,
    MemberRoleForm,
    ProjectCreateForm,
    ProjectGeneralForm,
    QualityForm,
    add_service_errors,
    builder_edit,
    builder_rows,
    schema_from_post,
)
from labelhub.markdown import render_markdown
from labelhub.models import AuditAction, Project, ProjectMember
from labelhub.permissions import project_for
from labelhub.quality_bars import default_quality
from labelhub.selectors import audit_events_for
from labelhub.services import (
    organizations_where_admin,
    project_create,
    project_member_add,
    project_member_remove,
    project_member_set_role,
    project_update,
)

SETTINGS_TEMPLATE = "labelhub/project_settings.html"
# A builder's add and remove buttons ("add-label", "remove-criterion-2"); the kind reads them.
BUILDER_ACTION = re.compile(r"^(add-[a-z][a-z-]{0,40}|remove-[a-z][a-z-]{0,40}-\d{1,3})$")


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
        elif action == "verify-email" and request.user.email:
            email_address_send_verification(
                user=request.user,
                email=request.user.email,
                base_url=request.build_absolute_uri("/"),
            )
            messages.success(request, f"A confirmation link is on its way to {request.user.email}.")
            return redirect("account")
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
    context = {
        "token": token,
        "new_key": new_key,
        "memberships": memberships,
        "email_verified": email_address_is_verified(user=request.user, email=request.user.email),
    }
    return render(request, "labelhub/account.html", context)


def project_new(request: HttpRequest) -> HttpResponse:
    """Create a project (organization admins); the creator becomes its manager."""
    organizations = organizations_where_admin(user=request.user)
    if not organizations:
        raise Http404("Only organization administrators create projects.")
    form = ProjectCreateForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                user=request.user,
                organization=form.cleaned_data["organization"],
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Project “{project.name}” created. Now set it up.")
            return redirect("projects:settings", project_id=project.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "labelhub/project_new.html", {"form": form}, status=status)


# --- settings --------------------------------------------------------------------------------


def _settings_context(request: HttpRequest, project: Project, **override) -> dict:
    locked = project.tasks.exists()
    context = {
        "project": project,
        "kind_locked": locked,
        "general_form": ProjectGeneralForm(
            initial={"name": project.name, "kind": project.kind}, locked_kind=locked
        ),
        "builder": builder_rows(kind=project.kind, schema=project.schema, errors={}),
        "quality_form": QualityForm(
            initial={**default_quality(project.kind), **(project.quality or {})},
            kind=project.kind,
        ),
        "instructions_form": InstructionsForm(initial={"instructions": project.instructions}),
        "preview": render_markdown(project.instructions),
        "member_form": MemberAddForm(),
        "members": list(
            ProjectMember.objects.filter(project=project)
            .select_related("user")
            .order_by("role", "user__username")
        ),
        "member_errors": {},
        "content_choices": content_choices(
            categories=categories_of(project.organization_id), flags=project.content_flags
        ),
        "content_errors": [],
        "saved": "",
    }
    context.update(override)
    for member in context["members"]:
        member.form = MemberRoleForm(initial={"role": member.role}, prefix=f"m{member.pk}")
        member.errors = context["member_errors"].get(member.pk, [])
    return context


def _section(
    request: HttpRequest, project: Project, section: str, *, ok: bool, **override
) -> HttpResponse:
    """The section alone for htmx, else the whole page (or a redirect after a good save)."""
    if ok and not request.htmx:
        messages.success(request, "Saved.")
        return redirect(reverse("projects:settings", args=[project.pk]) + f"#{section}")
    context = _settings_context(request, project, **override)
    template = f"{SETTINGS_TEMPLATE}#{section}" if request.htmx else SETTINGS_TEMPLATE
    return render(request, template, context, status=200 if ok else 422)


@require_GET
@login_required
def project_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    return render(request, SETTINGS_TEMPLATE, _settings_context(request, project))


@require_POST
@login_required
def project_settings_content(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's content categories (a checkbox per category of the organization)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        project = project_content_set(
            project=project, names=request.POST.getlist("category"), actor=request.user
        )
    except ValidationError as error:
        return _section(request, project, "content", ok=False, content_errors=error.messages)
    return _section(request, project, "content", ok=True, saved="content")


@require_POST
@login_required
def project_settings_general(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    locked = project.tasks.exists()
    form = ProjectGeneralForm(request.POST, locked_kind=locked, initial={"kind": project.kind})
    if form.is_valid():
        changes = {"name": form.cleaned_data["name"]}
        if not locked:
            changes["kind"] = form.cleaned_data["kind"]
        try:
            project = project_update(actor=request.user, project=project, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
    ok = form.is_valid() and not form.errors
    if ok and request.htmx and "kind" in form.changed_data:
        # A new kind brings a new schema and bars: the whole page must change, not one section.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("projects:settings", args=[project.pk])
        return response
    override = {"saved": "general"} if ok else {"general_form": form}
    return _section(request, project, "general", ok=ok, **override)


@require_POST
@login_required
def project_settings_schema(request: HttpRequest, project_id: int) -> HttpResponse:
    """Save the schema from the builder, or from the JSON view; or add/remove a builder row."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    action = request.POST.get("action", "save")
    schema = (
        None if action == "save-json" else schema_from_post(kind=project.kind, post=request.POST)
    )
    if schema is None:  # the JSON view, and the only form of a kind without a builder
        action = "save-json"
        try:
            schema = json.loads(request.POST.get("schema_json", ""))
        except (json.JSONDecodeError, RecursionError) as error:
            builder = builder_rows(kind=project.kind, schema=project.schema, errors={})
            message = (
                f"Not valid JSON (line {error.lineno}: {error.msg})."
                if isinstance(error, json.JSONDecodeError)
                else "The JSON is nested too deeply."
            )
            builder["errors"] = {"json": [message]}
            builder["json"] = request.POST.get("schema_json", "")
            return _section(request, project, "schema", ok=False, builder=builder)
    if BUILDER_ACTION.match(action):
        schema = builder_edit(kind=project.kind, schema=schema, action=action)
        builder = builder_rows(kind=project.kind, schema=schema, errors={})
        template = f"{SETTINGS_TEMPLATE}#schema" if request.htmx else SETTINGS_TEMPLATE
        context = _settings_context(request, project, builder=builder, unsaved=True)
        return render(request, template, context)
    try:
        project = project_update(actor=request.user, project=project, schema=schema)
    except ValidationError as error:
        errors = {
            path.removeprefix("schema.").removeprefix("schema"): messages_
            for path, messages_ in error.message_dict.items()
        }
        # JSON that is not an object ("text", a list) has no rows to show: show the saved ones
        shown = schema if isinstance(schema, dict) else project.schema
        builder = builder_rows(kind=project.kind, schema=shown, errors=errors)
        if action == "save-json":
            builder["json"] = request.POST.get("schema_json", "")
        return _section(request, project, "schema", ok=False, builder=builder)
    return _section(request, project, "schema", ok=True, saved="schema")


@require_POST
@login_required
def project_settings_quality(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    form = QualityForm(request.POST, kind=project.kind)
    if form.is_valid():
        try:
            project = project_update(
                actor=request.user, project=project, quality=dict(form.cleaned_data)
            )
        except ValidationError as error:
            add_service_errors(form, error, prefix="quality.")
    ok = form.is_valid() and not form.errors
    override = {"saved": "quality"} if ok else {"quality_form": form}
    return _section(request, project, "quality", ok=ok, **override)


@require_POST
@login_required
def project_settings_instructions(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    form = InstructionsForm(request.POST)
    if form.is_valid():
        try:
            project = project_update(
                actor=request.user, project=project, instructions=form.cleaned_data["instructions"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
    ok = form.is_valid() and not form.errors
    text = request.POST.get("instructions", "")
    override = {"saved": "instructions"} if ok else {"instructions_form": form}
    return _section(
        request, project, "instructions", ok=ok, preview=render_markdown(text), **override
    )


@require_POST
@login_required
def project_instructions_preview(request: HttpRequest, project_id: int) -> HttpResponse:
    """The instructions as contributors will see them, while the manager types."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    text = request.POST.get("instructions", "")[:50_000]
    return render(
        request,
        f"{SETTINGS_TEMPLATE}#instructions-preview",
        {"project": project, "preview": render_markdown(text)},
    )


@require_POST
@login_required
def project_member_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            project_member_add(actor=request.user, project=project, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    ok = form.is_valid() and not form.errors
    override = {"saved": "members"} if ok else {"member_form": form}
    return _section(request, project, "members", ok=ok, **override)


def _member(request: HttpRequest, project_id: int, member_id: int) -> tuple[Project, ProjectMember]:
    project = project_for(user=request.user, project_id=project_id, action="manage")
    member = get_object_or_404(
        ProjectMember.objects.select_related("user", "project"), pk=member_id, project=project
    )
    return project, member


@require_POST
@login_required
def project_member_update(request: HttpRequest, project_id: int, member_id: int) -> HttpResponse:
    project, member = _member(request, project_id, member_id)
    form = MemberRoleForm(request.POST, prefix=f"m{member.pk}")
    errors: list[str] = []
    if form.is_valid():
        try:
            project_member_set_role(
                actor=request.user, member=member, role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            errors = error.messages
    else:
        errors = ["Choose manager, reviewer or contributor."]
    override = {"member_errors": {member.pk: errors}} if errors else {"saved": "members"}
    return _section(request, project, "members", ok=not errors, **override)


@require_POST
@login_required
def project_member_delete(request: HttpRequest, project_id: int, member_id: int) -> HttpResponse:
    project, member = _member(request, project_id, member_id)
    try:
        project_member_remove(actor=request.user, member=member)
    except ValidationError as error:
        return _section(
            request, project, "members", ok=False, member_errors={member.pk: error.messages}
        )
    if member.user_id == request.user.pk:
        # Managers can step down while another manager remains; then the settings are gone.
        messages.success(request, f"You left “{project.name}”.")
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("home")
            return response
        return redirect("home")
    return _section(request, project, "members", ok=True, saved="members")


AUDIT_PAGE_SIZE = 50


@require_GET
@login_required
def project_audit(request: HttpRequest, project_id: int) -> HttpResponse:
    """Who changed the project's schema, bars, people and reviews, newest first (managers)."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    action = request.GET.get("action", "")
    if action not in AuditAction.values:
        action = ""
    events = audit_events_for(project=project, action=action or None)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "labelhub/project_audit.html",
        {
            "project": project,
            "page": page,
            "action": action,
            "actions": AuditAction.choices,
        },
    )
