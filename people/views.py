"""Pages of an organization's people: the People page (members, invitations), making an
organization (staff), and accepting an invitation. Writes go through :mod:`people.members` and
:mod:`people.invitations`; only the organization's admins get past
:func:`labelhub.permissions.organization_for` (everyone else: 404).
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelhub.email_addresses import (
    VerificationUnusable,
    email_address_verify,
    signup_request,
    verification_find,
)
from labelhub.forms import add_service_errors
from labelhub.models import AuditEvent, Invitation, Organization
from labelhub.permissions import organization_for
from people.forms import InviteForm, LinkForm, NewPersonForm, OrganizationCreateForm
from people.invitations import (
    InvitationUnusable,
    invitation_accept,
    invitation_accept_verified,
    invitation_create_link,
    invitation_create_many,
    invitation_find,
    invitation_revoke,
    invitation_url,
    organization_create_with_admin,
    rows_from_csv,
    rows_from_text,
)
from people.members import member_remove, member_set_admin, people_of

PEOPLE_TEMPLATE = "people/people.html"
CSV_MAX_BYTES = 1024 * 1024


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _people_context(request: HttpRequest, organization: Organization, **override) -> dict:
    now = timezone.now()
    invitations = list(
        Invitation.objects.filter(organization=organization)
        .select_related("project", "created_by", "accepted_by")
        .order_by("-created_at", "-id")[:200]
    )
    for invitation in invitations:
        invitation.state_now = invitation.state_at(now)
    context = {
        "organization": organization,
        "people": people_of(organization=organization),
        "invitations": invitations,
        "invite_form": InviteForm(organization=organization),
        "link_form": LinkForm(organization=organization),
        "events": AuditEvent.objects.filter(organization=organization, project__isnull=True)
        .select_related("actor")
        .order_by("-created_at", "-id")[:20],
        "new_link": "",
    }
    context.update(override)
    return context


def _back(organization: Organization) -> HttpResponse:
    return redirect("people:list", slug=organization.slug)


@require_GET
@login_required
def people_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for(user=request.user, slug=slug)
    return render(request, PEOPLE_TEMPLATE, _people_context(request, organization))


@require_POST
@login_required
def person_admin(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """Make a member an organization admin, or no longer one (``is_admin`` = "true"/"false")."""
    organization = organization_for(user=request.user, slug=slug)
    make_admin = request.POST.get("is_admin") == "true"
    try:
        member = member_set_admin(
            organization=organization, user_id=user_id, is_admin=make_admin, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        name = member.user.get_username()
        messages.success(
            request, f"{name} is {'now an admin' if make_admin else 'no longer an admin'}."
        )
    return _back(organization)


@require_POST
@login_required
def person_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    organization = organization_for(user=request.user, slug=slug)
    member = organization.members.select_related("user").filter(user_id=user_id).first()
    if member is None:
        raise Http404("No such member.")
    try:
        member_remove(organization=organization, user_id=user_id, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(organization)
    if user_id == request.user.pk:
        messages.success(request, f"You left {organization.name}.")
        return redirect("home")
    messages.success(
        request,
        f"{member.user.get_username()} was removed from {organization.name}: their roles and "
        "API token stopped working. What they did stays, with their name.",
    )
    return _back(organization)


@require_POST
@login_required
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    """Invite by email: a pasted list, or a CSV of email, role, project."""
    organization = organization_for(user=request.user, slug=slug)
    form = InviteForm(request.POST, request.FILES, organization=organization)
    if form.is_valid():
        data = form.cleaned_data
        project = data["project"].pk if data["project"] else ""
        try:
            rows = rows_from_text(text=data["emails"], role=data["role"], project=project)
            upload = data.get("file")
            if upload is not None:
                if upload.size > CSV_MAX_BYTES:
                    raise ValidationError({"file": ["A CSV of invitations is at most 1 MB."]})
                rows += rows_from_csv(data=upload.read(), role=data["role"], project=project)
            issued = invitation_create_many(
                organization=organization,
                actor=request.user,
                rows=rows,
                base_url=_base_url(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            count = len(issued)
            messages.success(request, f"Sent {count} invitation{'s' if count != 1 else ''}.")
            return _back(organization)
    context = _people_context(request, organization, invite_form=form)
    return render(request, PEOPLE_TEMPLATE, context, status=422)


@require_POST
@login_required
def invite_link(request: HttpRequest, slug: str) -> HttpResponse:
    """Make an invitation link; it is shown once, on the page this answers with."""
    organization = organization_for(user=request.user, slug=slug)
    form = LinkForm(request.POST, organization=organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = invitation_create_link(
                organization=organization,
                actor=request.user,
                role=data["role"],
                project=data["project"],
                max_uses=data["max_uses"],
                expires_in_days=data["expires_in_days"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            url = invitation_url(base_url=_base_url(request), token=issued.token)
            return render(
                request, PEOPLE_TEMPLATE, _people_context(request, organization, new_link=url)
            )
    context = _people_context(request, organization, link_form=form)
    return render(request, PEOPLE_TEMPLATE, context, status=422)


@require_POST
@login_required
def invitation_revoke_view(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    organization = organization_for(user=request.user, slug=slug)
    invitation = get_object_or_404(Invitation, pk=invitation_id, organization=organization)
    invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, "Invitation revoked: its link no longer works.")
    return _back(organization)


@require_http_methods(["GET", "POST"])
@login_required
def organization_new(request: HttpRequest) -> HttpResponse:
    """Staff make a customer's organization and name its first admin."""
    if not request.user.is_staff:
        raise Http404("Only staff create organizations.")
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization, issued = organization_create_with_admin(
                name=form.cleaned_data["name"],
                admin_email=form.cleaned_data["admin_email"],
                actor=request.user,
                base_url=_base_url(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            who = form.cleaned_data["admin_email"]
            admin = f"An admin invitation went to {who}." if issued else f"{who} is its admin."
            messages.success(request, f"{organization.name} created. {admin}")
            return redirect("people:organization-new")
    status = 422 if request.method == "POST" else 200
    return render(request, "people/organization_new.html", {"form": form}, status=status)


# --- accepting an invitation (public: the token is the key) -----------------------------------


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_find(token=token)
    except InvitationUnusable as error:
        return render(
            request, "people/invitation_unusable.html", {"reason": str(error)}, status=410
        )
    signed_in = request.user.is_authenticated
    form = None if signed_in else NewPersonForm(request.POST or None, email=invitation.email)
    if request.method == "POST":
        try:
            if signed_in:
                project = invitation_accept(token=token, user=request.user)
                return _landing(request, invitation, project)
            if form.is_valid():
                # The same answer whether the address or the username exists: the mail says
                # what to do next, to the owner of the address only.
                address = invitation.email or form.cleaned_data["email"]
                signup_request(
                    invitation=invitation,
                    invitation_url=request.build_absolute_uri(request.path),
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    email=address,
                    full_name=form.cleaned_data["full_name"],
                    base_url=_base_url(request),
                )
                return render(request, "people/check_email.html", {"address": address})
        except InvitationUnusable as error:  # used up or revoked meanwhile
            return render(
                request,
                "people/invitation_unusable.html",
                {"reason": str(error)},
                status=410,
            )
        except ValidationError as error:
            add_service_errors(form, error)
    context = {
        "invitation": invitation,
        "form": form,
        "login_url": reverse("login") + "?next=" + request.path,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "people/accept.html", context, status=status)


def _landing(request: HttpRequest, invitation: Invitation, project) -> HttpResponse:
    organization = invitation.organization.name
    if project is not None:
        messages.success(request, f"Welcome to {organization}: you are on {project.name}.")
        return redirect("projects:detail", project_id=project.pk)
    messages.success(request, f"Welcome to {organization}.")
    return redirect("home")


# --- confirming an email address (public: the token is the key) ------------------------------


@require_http_methods(["GET", "POST"])
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """A link mailed to confirm an address: the page asks for a click (a GET changes nothing, so
    mail scanners that open links do not spend it); the POST confirms, and for a sign-up
    activates the account, signs the person in and uses the invitation it waited on."""
    try:
        if request.method == "GET":
            verification = verification_find(token=token)
            return render(
                request,
                "people/email_verify.html",
                {"address": verification.address.email, "signup": bool(verification.invitation_id)},
            )
        verified = email_address_verify(token=token)
    except VerificationUnusable as error:
        return render(
            request, "people/invitation_unusable.html", {"reason": str(error)}, status=410
        )
    user = verified.address.user
    if verified.invitation is None:
        messages.success(request, f"{verified.address.email} is confirmed.")
        return redirect("account" if request.user.is_authenticated else "login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    try:
        project = invitation_accept_verified(invitation=verified.invitation, user=user)
    except InvitationUnusable as error:
        messages.warning(request, f"Your account is ready, but: {error}")
        return redirect("home")
    return _landing(request, verified.invitation, project)
