"""Pages: sign in with an organization's provider (found by email domain or by its slug), the
return from the provider, the log-in and reset pages with passwords off, and *People → Sign-in*
for an organization's admins."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelhub.forms import add_service_errors
from labelhub.permissions import organization_for
from signin.forms import FindProviderForm, ProviderConfigForm, ResetForm, SignInForm
from signin.models import ProviderConfig
from signin.oidc import SignInRefused, authorize_finish, authorize_redirect
from signin.services import (
    person_sign_in,
    provider_config_delete,
    provider_config_save,
    provider_for_email,
    scim_token_create,
    session_open,
)

NEXT = "signin_next"
REFUSED_TEMPLATE = "signin/refused.html"


class LoginView(auth_views.LoginView):
    """Django's log-in page, with the form that knows about passwords off and the search for an
    organization's provider by email."""

    authentication_form = SignInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("find_form", FindProviderForm())
        return context


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm


def _enabled_provider(slug: str) -> ProviderConfig:
    provider = (
        ProviderConfig.objects.select_related("organization")
        .filter(organization__slug=slug, enabled=True)
        .first()
    )
    if provider is None:
        raise Http404("This organization does not sign in with an identity provider.")
    return provider


def redirect_uri(request: HttpRequest, provider: ProviderConfig) -> str:
    return request.build_absolute_uri(
        reverse("signin:callback", kwargs={"slug": provider.organization.slug})
    )


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _refused(request: HttpRequest, refusal: SignInRefused, provider=None) -> HttpResponse:
    return render(
        request,
        REFUSED_TEMPLATE,
        {"message": refusal.message, "reason": refusal.reason, "provider": provider},
        status=403,
    )


@require_POST
def find(request: HttpRequest) -> HttpResponse:
    """The person typed their work address on the log-in page: the button to their provider.

    A page with a link rather than a redirect: the log-in page's CSP (``form-action 'self'``)
    rightly refuses a form whose answer leads to another site.
    """
    form = FindProviderForm(request.POST)
    next_url = _safe_next(request, request.POST.get("next", ""))
    if form.is_valid():
        provider = provider_for_email(form.cleaned_data["email"])
        if provider is not None:
            query = {"login_hint": form.cleaned_data["email"]}
            if next_url:
                query["next"] = next_url
            url = reverse("signin:start", kwargs={"slug": provider.organization.slug})
            return render(
                request,
                "signin/choose.html",
                {"provider": provider, "start_url": f"{url}?{urlencode(query)}"},
            )
        domain = form.cleaned_data["email"].rsplit("@", 1)[-1]
        form.add_error(
            "email",
            f"No organization signs in with addresses at {domain}: log in with your password.",
        )
    view = LoginView.as_view(extra_context={"find_form": form, "next": next_url})
    request.method = "GET"
    response = view(request)
    response.status_code = 422
    return response


@require_GET
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """``/login/<org-slug>/``: to the organization's provider, with state, nonce and PKCE."""
    provider = _enabled_provider(slug)
    next_url = _safe_next(request, request.GET.get("next", ""))
    if next_url:
        request.session[NEXT] = next_url
    else:
        request.session.pop(NEXT, None)
    try:
        return authorize_redirect(
            provider=provider,
            request=request,
            redirect_uri=redirect_uri(request, provider),
            login_hint=request.GET.get("login_hint", "")[:254],
        )
    except SignInRefused as refusal:
        return _refused(request, refusal, provider)


@require_GET
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    """Back from the provider: check everything, provision the person, open the session."""
    provider = _enabled_provider(slug)
    try:
        answer = authorize_finish(provider=provider, request=request)
        signed_in = person_sign_in(provider=provider, claims=answer.claims)
    except SignInRefused as refusal:
        return _refused(request, refusal, provider)
    next_url = request.session.pop(NEXT, "")
    login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
    session_open(
        identity=signed_in.identity, session=request.session, refresh_token=answer.refresh_token
    )
    if signed_in.created:
        messages.success(request, f"Welcome to {provider.organization.name}.")
    return redirect(next_url or "home")


# --- People → Sign-in ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def settings_page(request: HttpRequest, slug: str, *, new_scim_token: str = "") -> HttpResponse:
    organization = organization_for(user=request.user, slug=slug)
    config = ProviderConfig.objects.filter(organization=organization).first()
    status = 200
    if request.method == "POST" and not new_scim_token:
        form = ProviderConfigForm(request.POST, organization=organization, config=config)
        if form.is_valid():
            try:
                config = provider_config_save(
                    organization=organization,
                    changes=form.changes(),
                    client_secret=form.cleaned_data["client_secret"] or None,
                    actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if not config.client_secret:
                    messages.warning(request, "Saved, but no client secret is set yet.")
                else:
                    messages.success(request, "Sign-in settings saved.")
                return redirect("signin:settings", slug=organization.slug)
        status = 422
    else:
        form = ProviderConfigForm(organization=organization, config=config)
    callback_url = request.build_absolute_uri(
        reverse("signin:callback", kwargs={"slug": organization.slug})
    )
    start_url = request.build_absolute_uri(
        reverse("signin:start", kwargs={"slug": organization.slug})
    )
    return render(
        request,
        "signin/settings.html",
        {
            "organization": organization,
            "config": config,
            "form": form,
            "callback_url": callback_url,
            "start_url": start_url,
            "scim_url": request.build_absolute_uri("/scim/v2/"),
            "new_scim_token": new_scim_token,
            "claims": organization.domain_claims.all() if config else [],
            "identities": config.identities.select_related("user").order_by("-last_sign_in_at")[:50]
            if config
            else [],
        },
        status=status,
    )


@require_POST
@login_required
def settings_delete(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for(user=request.user, slug=slug)
    provider_config_delete(organization=organization)
    messages.success(request, "Sign-in with the identity provider removed.")
    return redirect("signin:settings", slug=organization.slug)


@require_POST
@login_required
def settings_scim_token(request: HttpRequest, slug: str) -> HttpResponse:
    """A new SCIM bearer token, shown on the page this once (the previous one stops)."""
    organization = organization_for(user=request.user, slug=slug)
    try:
        token = scim_token_create(organization=organization)
    except ValidationError:
        messages.error(request, "Connect the identity provider first.")
        return redirect("signin:settings", slug=organization.slug)
    return settings_page(request, slug, new_scim_token=token)
