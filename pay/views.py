"""Pay pages: a project's rates and fair-pay check, the organization's settings, statements."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from labelhub.models import OrganizationMember
from labelhub.permissions import can_label, can_manage, organization_for, project_for
from pay import selectors, services
from pay.api import payout_csv_response
from pay.forms import OrganizationPayForm, ProjectPayForm
from pay.ledger import currency_of
from pay.models import OrganizationPay, ProjectPay


def _form_errors(form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        name = form.field_of(field) if hasattr(form, "field_of") else field
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


@require_http_methods(["GET", "POST"])
@login_required
def project_pay(request: HttpRequest, project_id: int) -> HttpResponse:
    """Managers set the rates and see effective pay against the floor; members see the rates
    and what they earned."""
    project = project_for(user=request.user, project_id=project_id, action="view")
    manages = can_manage(user=request.user, project=project)
    pay = ProjectPay.objects.filter(project=project).first() or ProjectPay(project=project)
    levels = selectors.pay_levels_of(project)
    initial = {
        "basis": pay.basis,
        "accepted_rate": pay.accepted_rate,
        "rejected_rate": pay.rejected_rate,
        "hourly_rate": pay.hourly_rate,
        "bonus_per_task": pay.bonus_per_task,
        "bonus_accuracy": pay.bonus_accuracy,
        **{
            ProjectPayForm.level_field(level): rate
            for level, rate in (pay.level_rates or {}).items()
        },
    }
    form = ProjectPayForm(initial=initial, levels=levels)
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404("No such project.")
        form = ProjectPayForm(request.POST, levels=levels)
        if form.is_valid():
            try:
                services.project_pay_save(project=project, actor=request.user, values=form.values())
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _saved_words(project=project))
                return redirect("pay:project", project.pk)
        status = 422
    context = {
        "project": project,
        "manages": manages,
        "labels": can_label(user=request.user, project=project),
        "pay": pay,
        "configured": pay.pk is not None and not pay._state.adding,
        "terms": selectors.pay_terms_for(project=project),
        "levels": levels,
        "level_rates": selectors.level_rates_of(pay, levels) if pay.level_rates else [],
        "unpaid_answers": selectors.answers_unpaid_count(project=project) if manages else 0,
        "form": form,
        "currency": currency_of(organization_id=project.organization_id),
        "earned": selectors.earnings_summary(project=project, user=request.user),
        "fair": selectors.fair_pay_for(project=project) if manages else None,
        "current": "pay",
    }
    return render(request, "pay/project_pay.html", context, status=status)


def _saved_words(*, project) -> str:
    terms = selectors.pay_terms_for(project=project)
    if terms.state == "unpaid":
        return "Saved: this project is unpaid (volunteers or internal staff); contributors see so."
    words = "Rates saved: they apply to answers counted from now on."
    waiting = selectors.answers_unpaid_count(project=project)
    if waiting:
        words += (
            f" {waiting} answer{'s' if waiting != 1 else ''} made before "
            f"{'have' if waiting != 1 else 'has'} no pay: you may pay them at these rates below."
        )
    return words


@require_POST
@login_required
def project_pay_backpay(request: HttpRequest, project_id: int) -> HttpResponse:
    """Managers pay the answers made before the project had rates, at its current rates."""
    project = project_for(user=request.user, project_id=project_id, action="manage")
    try:
        paid = services.project_pay_backpay(project=project, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Paid {paid} earlier answer{'s' if paid != 1 else ''} at the current rates: "
            "each is on its author's statement.",
        )
    return redirect("pay:project", project.pk)


@require_http_methods(["GET", "POST"])
@login_required
def organization_pay(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for(user=request.user, slug=slug)
    settings = OrganizationPay.objects.filter(organization=organization).first()
    form = OrganizationPayForm(
        initial={
            "currency": settings.currency if settings else "USD",
            "fair_pay_floor": settings.fair_pay_floor if settings else None,
        }
    )
    status = 200
    if request.method == "POST":
        form = OrganizationPayForm(request.POST)
        if form.is_valid():
            try:
                services.organization_pay_save(
                    organization=organization, actor=request.user, values=form.cleaned_data
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, "Pay settings saved.")
                return redirect("pay:organization", organization.slug)
        status = 422
    return render(
        request,
        "pay/organization_pay.html",
        {"organization": organization, "form": form},
        status=status,
    )


@require_GET
@login_required
def my_statements(request: HttpRequest) -> HttpResponse:
    """The person's statements: straight to their organization's, or a choice of them."""
    memberships = list(
        OrganizationMember.objects.filter(user_id=request.user.pk)
        .select_related("organization")
        .order_by("organization__name")
    )
    if len(memberships) == 1:
        return redirect("pay:statements", memberships[0].organization.slug)
    return render(request, "pay/choose_organization.html", {"memberships": memberships})


@require_GET
@login_required
def statements(request: HttpRequest, slug: str) -> HttpResponse:
    """A member's own statement for a week or month; an admin's view of everyone, anyone's
    statement (``?person=``) and the payout file (``?download=payouts``)."""
    organization = organization_for(user=request.user, slug=slug, admin=False)
    is_admin = selectors.is_organization_admin(organization=organization, user=request.user)
    try:
        period = selectors.period_parse(
            span=request.GET.get("period"), start=request.GET.get("start")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("pay:statements", organization.slug)
    if request.GET.get("download") == "payouts":
        if not is_admin:
            raise Http404("No such organization.")
        return payout_csv_response(organization=organization, period=period)
    username = request.GET.get("person")
    try:
        person = selectors.statement_person(
            organization=organization, viewer=request.user, username=username, is_admin=is_admin
        )
    except LookupError:
        raise Http404("No such person.") from None
    base = reverse("pay:statements", args=[organization.slug])
    context = {
        "organization": organization,
        "is_admin": is_admin,
        "period": period,
        "statement": selectors.statement_for(
            organization=organization, person=person, period=period
        ),
        "payouts": selectors.payouts_for(organization=organization, period=period)
        if is_admin
        else None,
        "base": base,
        "person_query": f"&person={username}" if username else "",
    }
    return render(request, "pay/statements.html", context)


def fair_pay_panel(*, request: HttpRequest, project) -> str:
    """The quality dashboard's fair-pay part: only where the project pays or the organization
    set a floor."""
    fair = selectors.fair_pay_for(project=project)
    if not fair.configured:
        return ""
    return render_to_string(
        "pay/_dashboard_panel.html", {"fair": fair, "project": project}, request=request
    )
