"""Pay in the API: rates, the ledger, statements, payouts and the fair-pay floor.

``/api/v1/projects/{id}/pay/`` (members read the rates and what they earned; managers also the
effective hourly pay against the floor, and set the rates), ``…/pay/ledger/`` (managers: every
entry; a contributor: their own), ``/api/v1/organizations/{slug}/pay/`` (admins: currency and
floor), ``…/statements/`` (a member: their own statement; an admin: anyone's, or the period's
totals for everyone) and ``…/payouts/`` (admins: the period as CSV for payroll).
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kinds.streams import csv_safe
from labelhub.models import OrganizationMember
from labelhub.permissions import can_manage, organization_for, project_for
from pay import selectors
from pay.ledger import currency_of
from pay.models import OrganizationPay, PayBasis, ProjectPay
from pay.services import organization_pay_save, project_pay_backpay, project_pay_save

NOT_FOUND = OpenApiResponse(description="No such project or organization, or not the caller's.")
MONEY = {"max_digits": 12, "decimal_places": 4, "coerce_to_string": True}
PERIOD_PARAMS = [
    OpenApiParameter("period", str, enum=["week", "month"], description="Default month."),
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="Any day of the period (default: today, UTC)."
    ),
]


class RatesOut(serializers.Serializer):
    configured = serializers.BooleanField(
        help_text="False until a manager sets rates or marks the project unpaid."
    )
    state = serializers.ChoiceField(
        choices=["paid", "unpaid", "unset"],
        help_text="paid (rates set), unpaid (volunteers or internal staff, chosen by a manager) "
        "or unset (no choice yet).",
    )
    words = serializers.CharField(help_text="The pay in one line, as contributors read it.")
    currency = serializers.CharField()
    basis = serializers.ChoiceField(choices=PayBasis.choices)
    accepted_rate = serializers.DecimalField(**MONEY)
    rejected_rate = serializers.DecimalField(**MONEY)
    hourly_rate = serializers.DecimalField(**MONEY)
    bonus_per_task = serializers.DecimalField(**MONEY)
    bonus_accuracy = serializers.FloatField()
    level_name = serializers.CharField(
        help_text="What the project's kind pays at different rates (an environment's "
        "difficulty); empty when every answer is paid alike."
    )
    level_rates = serializers.DictField(
        child=serializers.DecimalField(**MONEY),
        help_text="Per task: each level (in the kind's order) with the rate an accepted answer "
        "of that level is paid: its own rate, else accepted_rate.",
    )
    own_level_rates = serializers.DictField(
        child=serializers.DecimalField(**MONEY),
        help_text="The levels given a rate of their own (what PUT level_rates set).",
    )


class RatesIn(serializers.Serializer):
    basis = serializers.CharField(
        required=False, help_text="task, hour, or unpaid (volunteers or internal staff)"
    )
    accepted_rate = serializers.CharField(required=False, help_text="Per accepted task, e.g. 0.25")
    rejected_rate = serializers.CharField(required=False, help_text="Per rejected task (may be 0)")
    hourly_rate = serializers.CharField(required=False, help_text="Per active hour (basis hour)")
    bonus_per_task = serializers.CharField(required=False, help_text="Per answer that stands")
    bonus_accuracy = serializers.FloatField(
        required=False, help_text="Bonus when the gold accuracy's lower 95% bound is above this"
    )
    level_rates = serializers.DictField(
        child=serializers.CharField(allow_null=True, allow_blank=True),
        required=False,
        help_text="Per task, for kinds with levels: {level: amount} replaces the rates per "
        'level, e.g. {"easy": "2", "hard": "9"}; a level left out (or null) is paid '
        "accepted_rate. Errors are keyed level_rates.<level>.",
    )


class EarnedOut(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    active_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()
    entries = serializers.IntegerField()
    per_active_hour = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=True
    )


class FairPayOut(serializers.Serializer):
    currency = serializers.CharField()
    floor = serializers.CharField(allow_null=True)
    people = serializers.IntegerField()
    median_hourly = serializers.CharField(allow_null=True)
    quantiles = serializers.DictField(child=serializers.CharField())
    below_floor = serializers.BooleanField()
    rate_needed = serializers.DictField(child=serializers.CharField())
    message = serializers.CharField()


class ProjectPayOut(serializers.Serializer):
    rates = RatesOut()
    earned = EarnedOut(help_text="What the caller earned on this project.")
    fair_pay = FairPayOut(required=False, help_text="Managers only.")
    unpaid_answers = serializers.IntegerField(
        required=False,
        help_text="Managers only: counted answers the ledger never paid (made before rates "
        "were set); POST …/pay/backpay/ pays them at the current rates.",
    )


class BackpayOut(serializers.Serializer):
    paid = serializers.IntegerField(help_text="How many earlier answers were paid.")
    pay = ProjectPayOut()


def _rates(pay: ProjectPay | None, currency: str, project) -> dict:
    levels = selectors.pay_levels_of(project)
    terms = selectors.pay_terms_of(pay, currency=currency, levels=levels)
    pay = pay or ProjectPay()
    return {
        "level_name": levels.name,
        "level_rates": dict(selectors.level_rates_of(pay, levels)),
        "own_level_rates": dict(pay.level_rates or {}),
        "configured": terms.state != "unset",
        "state": terms.state,
        "words": terms.words,
        "currency": currency,
        "basis": pay.basis,
        "accepted_rate": pay.accepted_rate,
        "rejected_rate": pay.rejected_rate,
        "hourly_rate": pay.hourly_rate,
        "bonus_per_task": pay.bonus_per_task,
        "bonus_accuracy": pay.bonus_accuracy,
    }


def _project_pay(request: Request, project) -> dict:
    summary = selectors.earnings_summary(project=project, user=request.user)
    out = {
        "rates": _rates(
            ProjectPay.objects.filter(project=project).first(), summary.currency, project
        ),
        "earned": {
            "amount": summary.amount,
            "currency": summary.currency,
            "active_seconds": summary.active_seconds,
            "lease_seconds": summary.lease_seconds,
            "entries": summary.entries,
            "per_active_hour": summary.per_hour,
        },
    }
    if can_manage(user=request.user, project=project):
        out["fair_pay"] = selectors.fair_pay_for(project=project).as_dict()
        out["unpaid_answers"] = selectors.answers_unpaid_count(project=project)
    return ProjectPayOut(out).data


class ProjectPayApi(APIView):
    @extend_schema(
        operation_id="projects_pay_retrieve",
        tags=["pay"],
        summary="The project's rates and what the caller earned (managers: the fair-pay check)",
        responses={200: ProjectPayOut, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="view")
        return Response(_project_pay(request, project))

    @extend_schema(
        operation_id="projects_pay_update",
        tags=["pay"],
        summary="Set the project's rates (managers); keys left out keep their value",
        request=RatesIn,
        responses={200: ProjectPayOut, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def put(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        given = RatesIn(data=request.data)
        given.is_valid(raise_exception=True)
        project_pay_save(project=project, actor=request.user, values=given.validated_data)
        return Response(_project_pay(request, project))


class ProjectBackpayApi(APIView):
    @extend_schema(
        operation_id="projects_pay_backpay",
        tags=["pay"],
        summary="Pay the answers made before the project had rates, at its current rates "
        "(managers); one ledger settlement per answer",
        request=None,
        responses={200: BackpayOut, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="manage")
        paid = project_pay_backpay(project=project, actor=request.user)
        return Response({"paid": paid, "pay": _project_pay(request, project)})


class EntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.CharField(source="person.username")
    project = serializers.IntegerField(source="project_id", allow_null=True)
    project_name = serializers.CharField()
    annotation = serializers.IntegerField(source="annotation_id", allow_null=True)
    event = serializers.CharField()
    part = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    active_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProjectLedgerApi(APIView):
    @extend_schema(
        operation_id="projects_pay_ledger",
        tags=["pay"],
        summary="Ledger entries of the project, newest first (a contributor sees their own)",
        parameters=[
            OpenApiParameter("person", str, description="A username (managers)."),
            OpenApiParameter("limit", int, description="Up to 1000; default 500."),
        ],
        responses={200: EntryOut(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_for(user=request.user, project_id=project_id, action="view")
        person_id = request.user.pk
        if can_manage(user=request.user, project=project):
            person_id = None
            if username := request.query_params.get("person"):
                person_id = (
                    OrganizationMember.objects.filter(
                        organization=project.organization, user__username=username
                    )
                    .values_list("user_id", flat=True)
                    .first()
                ) or -1
        limit = _limit(request.query_params.get("limit"))
        entries = selectors.ledger_for(project=project, person_id=person_id, limit=limit)
        return Response(EntryOut(entries, many=True).data)


def _limit(value: str | None) -> int:
    try:
        return max(1, min(1000, int(value))) if value else 500
    except ValueError:
        raise ValidationError({"limit": ["A number from 1 to 1000."]}) from None


class OrganizationPayIn(serializers.Serializer):
    currency = serializers.CharField(required=False, help_text="ISO 4217, e.g. USD")
    fair_pay_floor = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Per active hour; null: none"
    )


class OrganizationPayOut(serializers.Serializer):
    currency = serializers.CharField()
    fair_pay_floor = serializers.DecimalField(**MONEY, allow_null=True)


class OrganizationPayApi(APIView):
    @extend_schema(
        operation_id="organizations_pay_retrieve",
        tags=["pay"],
        summary="The organization's currency and fair-pay floor (members read, admins set)",
        responses={200: OrganizationPayOut, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug, admin=False)
        settings = OrganizationPay.objects.filter(organization=organization).first()
        return Response(
            OrganizationPayOut(
                {
                    "currency": currency_of(organization_id=organization.pk),
                    "fair_pay_floor": settings.fair_pay_floor if settings else None,
                }
            ).data
        )

    @extend_schema(
        operation_id="organizations_pay_update",
        tags=["pay"],
        summary="Set the currency and the fair-pay floor per active hour (admins)",
        request=OrganizationPayIn,
        responses={200: OrganizationPayOut, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    def put(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        given = OrganizationPayIn(data=request.data)
        given.is_valid(raise_exception=True)
        saved = organization_pay_save(
            organization=organization, actor=request.user, values=given.validated_data
        )
        return Response(
            OrganizationPayOut(
                {"currency": saved.currency, "fair_pay_floor": saved.fair_pay_floor}
            ).data
        )


class StatementLineOut(serializers.Serializer):
    project = serializers.IntegerField(source="project_id", allow_null=True)
    project_name = serializers.CharField()
    answers = serializers.IntegerField(help_text="Answers first paid in the period")
    pay = serializers.DecimalField(**MONEY)
    bonus = serializers.DecimalField(**MONEY)
    rejections = serializers.DecimalField(**MONEY, help_text="Taken back by rejections (≤ 0)")
    reversals = serializers.DecimalField(
        **MONEY, help_text="Given back by corrections and appeals reversed"
    )
    total = serializers.DecimalField(**MONEY)
    active_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()


class StatementOut(serializers.Serializer):
    organization = serializers.CharField(source="organization.slug")
    person = serializers.CharField(source="person.username")
    period = serializers.CharField(source="period.span")
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.last_day")
    currency = serializers.CharField()
    total = serializers.DecimalField(**MONEY)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    active_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()
    lines = StatementLineOut(many=True)
    entries = EntryOut(many=True)


class PayoutOut(serializers.Serializer):
    person = serializers.CharField(source="username")
    name = serializers.CharField()
    email = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    answers = serializers.IntegerField()
    active_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()
    entries = serializers.IntegerField()


class StatementsOut(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    currency = serializers.CharField()
    people = PayoutOut(many=True)


def _period(request: Request) -> selectors.Period:
    return selectors.period_parse(
        span=request.query_params.get("period"), start=request.query_params.get("start")
    )


class StatementsApi(APIView):
    @extend_schema(
        operation_id="organizations_statements",
        tags=["pay"],
        summary="A statement: the caller's own, or (admins) anyone's; admins without `person` "
        "get everyone's totals for the period",
        parameters=[
            *PERIOD_PARAMS,
            OpenApiParameter("person", str, description="A username (admins; members: self)."),
        ],
        responses={200: StatementOut, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug, admin=False)
        period = _period(request)
        is_admin = selectors.is_organization_admin(organization=organization, user=request.user)
        username = request.query_params.get("person")
        if is_admin and not username:
            return Response(
                StatementsOut(
                    {
                        "period": period.span,
                        "start": period.start,
                        "end": period.last_day,
                        "currency": currency_of(organization_id=organization.pk),
                        "people": selectors.payouts_for(organization=organization, period=period),
                    }
                ).data
            )
        try:
            person = selectors.statement_person(
                organization=organization, viewer=request.user, username=username, is_admin=is_admin
            )
        except LookupError:
            raise Http404("No such person.") from None
        statement = selectors.statement_for(organization=organization, person=person, period=period)
        return Response(StatementOut(statement).data)


class PayoutsApi(APIView):
    @extend_schema(
        operation_id="organizations_payouts_csv",
        tags=["pay"],
        summary="What the organization owes each person for the period, as CSV (admins)",
        parameters=PERIOD_PARAMS,
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        organization = organization_for(user=request.user, slug=slug)
        period = _period(request)
        return payout_csv_response(organization=organization, period=period)


def payout_csv_response(*, organization, period) -> HttpResponse:
    """The payout file, shared by the statements page and the API."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(selectors.PAYOUT_COLUMNS)
    # Names and e-mails come from people: written so that a spreadsheet never runs them.
    # Amounts and hours are numbers the payroll program must read as numbers (some negative).
    text = {
        selectors.PAYOUT_COLUMNS.index(c) for c in ("organization", "username", "name", "email")
    }
    writer.writerows(
        [csv_safe(cell) if i in text else cell for i, cell in enumerate(row)]
        for row in selectors.payout_csv_rows(organization=organization, period=period)
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"payouts-{organization.slug}-{period.span}-{period.start.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
