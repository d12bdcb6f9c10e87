"""Reading pay: a person's earnings, statements per period, payouts, effective hourly pay.

Periods are calendar weeks (Monday to Sunday) or months, in UTC, so that a statement is the same
for its person and for the organization's admin wherever they are.
"""

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from labelhub.models import Organization, OrganizationMember, Project
from pay.ledger import DEFAULT_CURRENCY, answers_unpaid, currency_of
from pay.models import (
    FIRST_PAY_EVENTS,
    ZERO,
    Earning,
    EarningEvent,
    EarningPart,
    OrganizationPay,
    PayBasis,
    ProjectPay,
)
from quality.standing import RATE_MIN_SECONDS

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --- periods -----------------------------------------------------------------------------------


class PeriodSpan:
    WEEK = "week"
    MONTH = "month"
    ALL = (WEEK, MONTH)


@dataclass(frozen=True)
class Period:
    span: str  # week or month
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.span == PeriodSpan.MONTH:
            return self.start.strftime("%B %Y")
        return f"Week of {self.start.isoformat()} to {self.last_day.isoformat()}"

    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, datetime.min.time(), tzinfo=UTC),
            datetime.combine(self.end, datetime.min.time(), tzinfo=UTC),
        )

    def previous(self) -> "Period":
        return period_of(span=self.span, day=self.start - timedelta(days=1))

    def next(self) -> "Period":
        return period_of(span=self.span, day=self.end)


def period_of(*, span: str, day: date) -> Period:
    """The week (from Monday) or month holding ``day``."""
    if span == PeriodSpan.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(span, start, start + timedelta(days=7))
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Period(PeriodSpan.MONTH, start, end)


def period_parse(*, span: str | None, start: str | None) -> Period:
    """From ``?period=week|month&start=YYYY-MM-DD`` (any day of it; default: today's period)."""
    span = span or PeriodSpan.MONTH
    if span not in PeriodSpan.ALL:
        raise ValidationError({"period": ["The period is week or month."]})
    if start:
        try:
            day = date.fromisoformat(start)
        except ValueError:
            raise ValidationError(
                {"start": [f"{start!r} is not a date like 2026-11-30."]}
            ) from None
    else:
        day = timezone.now().astimezone(UTC).date()
    return period_of(span=span, day=day)


# --- one person's earnings ---------------------------------------------------------------------


@dataclass(frozen=True)
class EarningsSummary:
    amount: Decimal
    currency: str
    active_seconds: int
    lease_seconds: int
    entries: int

    @property
    def per_hour(self) -> Decimal | None:
        if self.active_seconds < RATE_MIN_SECONDS:
            return None
        return cents(self.amount * 3600 / self.active_seconds)


def _totals(queryset) -> dict:
    return queryset.aggregate(
        amount=Sum("amount", default=ZERO),
        active=Sum("active_seconds", default=0),
        lease=Sum("lease_seconds", default=0),
        entries=Count("pk"),
    )


def earnings_summary(*, project: Project, user: AbstractBaseUser) -> EarningsSummary:
    """What ``user`` earned on ``project`` so far and the time it paid for (one query)."""
    figures = _totals(Earning.objects.filter(project=project, person_id=user.pk))
    return EarningsSummary(
        amount=figures["amount"],
        currency=currency_of(organization_id=project.organization_id),
        active_seconds=figures["active"],
        lease_seconds=figures["lease"],
        entries=figures["entries"],
    )


@dataclass(frozen=True)
class PayTerms:
    """What a project pays, in one line for the people who label it.

    ``state`` is ``paid`` (rates set), ``unpaid`` (the manager's explicit choice) or ``unset``
    (no choice made yet: managers are warned, contributors told before they start)."""

    state: str
    words: str


def _money_words(value: Decimal) -> str:
    return str(cents(value))


@dataclass(frozen=True)
class PayLevels:
    """The levels a project's kind pays at different rates (``name`` "difficulty", ``levels``
    in the kind's order); empty for kinds that pay every answer alike."""

    name: str = ""
    levels: tuple[str, ...] = ()


def pay_levels_of(project: Project) -> PayLevels:
    kind = project.installed_kind
    if kind is None or not kind.pay_level_name:
        return PayLevels()
    return PayLevels(kind.pay_level_name, tuple(kind.pay_levels(schema=project.schema)))


def level_rates_of(pay: ProjectPay | None, levels: PayLevels) -> list[tuple[str, Decimal]]:
    """Each level with the accepted rate it is paid (its own rate, else the accepted rate)."""
    if pay is None:
        return []
    own = pay.level_rates or {}
    return [(level, Decimal(own.get(level, pay.accepted_rate))) for level in levels.levels]


def pay_terms_of(
    pay: ProjectPay | None, *, currency: str, levels: PayLevels | None = None
) -> PayTerms:
    if pay is None:
        return PayTerms("unset", "Pay not set yet: ask the project's manager before you start")
    if pay.basis == PayBasis.UNPAID:
        return PayTerms("unpaid", "Unpaid (volunteer or internal staff)")
    levels = levels or PayLevels()
    if pay.basis == PayBasis.HOUR:
        words = f"Pays {_money_words(pay.hourly_rate)} {currency} per active hour"
    elif pay.level_rates and levels.levels:
        by_level = ", ".join(
            f"{_money_words(rate)} {currency} {level}"
            for level, rate in level_rates_of(pay, levels)
        )
        words = f"Pays per accepted task by {levels.name}: {by_level}"
        if pay.rejected_rate:
            words += f"; {_money_words(pay.rejected_rate)} {currency} per rejected task"
    else:
        words = f"Pays {_money_words(pay.accepted_rate)} {currency} per accepted task"
        if pay.rejected_rate:
            words += f", {_money_words(pay.rejected_rate)} {currency} per rejected task"
    if pay.bonus_per_task:
        words += f"; bonus {_money_words(pay.bonus_per_task)} {currency} per accepted task"
    return PayTerms("paid", words)


def pay_terms_for(*, project: Project) -> PayTerms:
    """The project's pay in one line (two queries)."""
    return pay_terms_of(
        ProjectPay.objects.filter(project=project).first(),
        currency=currency_of(organization_id=project.organization_id),
        levels=pay_levels_of(project),
    )


def pay_terms_for_projects(projects) -> dict[int, PayTerms]:
    """Each project's pay in one line, by project id (two queries whatever the number)."""
    projects = list(projects)
    if not projects:
        return {}
    rates = {p.project_id: p for p in ProjectPay.objects.filter(project__in=projects)}
    currencies = dict(
        OrganizationPay.objects.filter(
            organization_id__in={p.organization_id for p in projects}
        ).values_list("organization_id", "currency")
    )
    return {
        p.pk: pay_terms_of(
            rates.get(p.pk),
            currency=currencies.get(p.organization_id, DEFAULT_CURRENCY),
            levels=pay_levels_of(p),
        )
        for p in projects
    }


def answers_unpaid_count(*, project: Project) -> int:
    """How many counted answers the ledger never paid (made before rates were set)."""
    return answers_unpaid(project=project).count()


def ledger_for(*, project: Project, person_id: int | None = None, limit: int = 500):
    """Entries of the project, newest first (of one person when given)."""
    entries = Earning.objects.filter(project=project).select_related("person")
    if person_id is not None:
        entries = entries.filter(person_id=person_id)
    return entries.order_by("-created_at", "-pk")[:limit]


# --- statements ---------------------------------------------------------------------------------


def is_organization_admin(*, organization: Organization, user: AbstractBaseUser) -> bool:
    return OrganizationMember.objects.filter(
        organization=organization, user_id=user.pk, is_admin=True
    ).exists()


def statement_person(
    *, organization: Organization, viewer: AbstractBaseUser, username: str | None, is_admin: bool
) -> AbstractBaseUser:
    """Whose statement ``viewer`` asked for: their own, or (an admin) a member's by username.
    Raises ``LookupError`` for anyone else, so that callers answer "not found"."""
    if not username or username == viewer.get_username():
        return viewer
    member = (
        OrganizationMember.objects.select_related("user")
        .filter(organization=organization, user__username=username)
        .first()
    )
    if not is_admin or member is None:
        raise LookupError(username)
    return member.user


@dataclass
class StatementLine:
    """One project's part of a statement."""

    project_id: int | None
    project_name: str
    answers: int = 0
    pay: Decimal = ZERO
    bonus: Decimal = ZERO
    rejections: Decimal = ZERO
    reversals: Decimal = ZERO
    active_seconds: int = 0
    lease_seconds: int = 0

    @property
    def total(self) -> Decimal:
        return self.pay + self.bonus + self.rejections + self.reversals


@dataclass
class Statement:
    organization: Organization
    person: AbstractBaseUser
    period: Period
    currency: str
    lines: list[StatementLine] = field(default_factory=list)
    entries: list[Earning] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def amount_due(self) -> Decimal:
        return cents(self.total)

    @property
    def active_seconds(self) -> int:
        return sum(line.active_seconds for line in self.lines)

    @property
    def lease_seconds(self) -> int:
        return sum(line.lease_seconds for line in self.lines)


def _in_period(organization: Organization, period: Period):
    low, high = period.bounds()
    return Earning.objects.filter(
        organization=organization, created_at__gte=low, created_at__lt=high
    )


def statement_for(
    *, organization: Organization, person: AbstractBaseUser, period: Period, entries: int = 1000
) -> Statement:
    """``person``'s statement: per project, what each kind of event added (two queries)."""
    mine = _in_period(organization, period).filter(person_id=person.pk)
    rows = (
        mine.values("project_id", "project_name", "event", "part")
        .annotate(
            amount=Sum("amount"),
            active=Sum("active_seconds"),
            lease=Sum("lease_seconds"),
            count=Count("pk"),
        )
        .order_by("project_name", "project_id")
    )
    lines: dict[tuple, StatementLine] = {}
    for row in rows:
        key = (row["project_id"], row["project_name"])
        line = lines.setdefault(key, StatementLine(*key))
        line.active_seconds += row["active"] or 0
        line.lease_seconds += row["lease"] or 0
        event, part, amount = row["event"], row["part"], row["amount"]
        if part == EarningPart.BONUS and event == EarningEvent.JUDGED:
            line.bonus += amount
        elif event in FIRST_PAY_EVENTS:
            line.pay += amount
            line.answers += row["count"]
        elif event == EarningEvent.REJECTED:
            line.rejections += amount
        else:
            line.reversals += amount
    return Statement(
        organization=organization,
        person=person,
        period=period,
        currency=currency_of(organization_id=organization.pk),
        lines=list(lines.values()),
        entries=list(mine.order_by("-created_at", "-pk")[:entries]),
    )


@dataclass(frozen=True)
class PayoutRow:
    person_id: int
    username: str
    name: str
    email: str
    amount: Decimal
    answers: int
    active_seconds: int
    lease_seconds: int
    entries: int


def payouts_for(*, organization: Organization, period: Period) -> list[PayoutRow]:
    """What the organization owes each person for the period (one query)."""
    rows = (
        _in_period(organization, period)
        .values(
            "person_id",
            "person__username",
            "person__first_name",
            "person__last_name",
            "person__email",
        )
        .annotate(
            amount=Sum("amount"),
            answers=Count("pk", filter=Q(event__in=FIRST_PAY_EVENTS, part=EarningPart.BASE)),
            active=Sum("active_seconds"),
            lease=Sum("lease_seconds"),
            entries=Count("pk"),
        )
        .order_by("person__username")
    )
    return [
        PayoutRow(
            person_id=row["person_id"],
            username=row["person__username"],
            name=f"{row['person__first_name']} {row['person__last_name']}".strip(),
            email=row["person__email"],
            amount=cents(row["amount"]),
            answers=row["answers"],
            active_seconds=row["active"] or 0,
            lease_seconds=row["lease"] or 0,
            entries=row["entries"],
        )
        for row in rows
    ]


PAYOUT_COLUMNS = [
    "period_start",
    "period_end",
    "organization",
    "username",
    "name",
    "email",
    "currency",
    "amount",
    "answers",
    "active_hours",
    "lease_hours",
    "entries",
]


def payout_csv_rows(*, organization: Organization, period: Period) -> list[list[str]]:
    currency = currency_of(organization_id=organization.pk)
    return [
        [
            period.start.isoformat(),
            period.last_day.isoformat(),
            organization.slug,
            row.username,
            row.name,
            row.email,
            currency,
            str(row.amount),
            str(row.answers),
            f"{row.active_seconds / 3600:.2f}",
            f"{row.lease_seconds / 3600:.2f}",
            str(row.entries),
        ]
        for row in payouts_for(organization=organization, period=period)
    ]


# --- effective hourly pay and the fair-pay floor -------------------------------------------------


@dataclass(frozen=True)
class FairPay:
    """A project's effective hourly pay (earnings ÷ active hours, per person) and its floor."""

    currency: str
    floor: Decimal | None
    people: int  # with at least RATE_MIN_SECONDS of paid active time
    median: Decimal | None
    quantiles: dict[str, Decimal]
    rates: list[Decimal]
    below_floor: bool
    rate_needed: dict[str, Decimal]  # rate name → the value that would reach the floor
    rate_now: dict[str, Decimal]
    configured: bool = True  # the project has rates, or its organization a floor

    @property
    def message(self) -> str:
        if self.median is None:
            return (
                "Not enough paid time yet to tell the effective hourly pay (each person needs "
                f"{RATE_MIN_SECONDS // 60} minutes of active time to count)."
            )
        words = (
            f"Median effective pay is {_down(self.median)} {self.currency} per active hour "
            f"over {self.people} {'person' if self.people == 1 else 'people'}"
        )
        floor = cents(self.floor) if self.floor is not None else None
        if floor is None:
            return words + "; the organization has set no fair-pay floor."
        if not self.below_floor:
            return words + f", at or above the organization's floor of {floor}."
        rises = ", ".join(
            f"the {name.replace('_', ' ')} from {cents(self.rate_now[name])} to {value} "
            f"{self.currency}"
            for name, value in self.rate_needed.items()
        )
        return (
            words + f", under the organization's fair-pay floor of {floor} {self.currency}."
            f" To reach it, raise {rises}."
        )

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "floor": _str(self.floor),
            "people": self.people,
            "median_hourly": _str(self.median and _down(self.median)),
            "quantiles": {k: str(_down(v)) for k, v in self.quantiles.items()},
            "below_floor": self.below_floor,
            "rate_needed": {k: str(v) for k, v in self.rate_needed.items()},
            "message": self.message,
        }


def _str(value) -> str | None:
    return None if value is None else str(value)


def _down(value: Decimal) -> Decimal:
    """Pay shown against a floor is cut, never rounded up: 11.995 reads 11.99, under 12."""
    return value.quantize(CENT, rounding=ROUND_FLOOR)


def _up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


def fair_pay_for(*, project: Project) -> FairPay:
    """Effective hourly pay of each person with enough paid time, its median against the floor,
    and the rate that would bring the median to the floor (three queries)."""
    settings = OrganizationPay.objects.filter(organization_id=project.organization_id).first()
    currency = settings.currency if settings else DEFAULT_CURRENCY
    floor = settings.fair_pay_floor if settings else None
    pay = ProjectPay.objects.filter(project=project).first()
    if pay is not None and pay.basis == PayBasis.UNPAID:
        pay = None  # volunteers or staff: nobody is paid here, so no floor to check
    if pay is None and floor is None:  # nothing to check: spare the dashboard the sums
        return FairPay(currency, None, 0, None, {}, [], False, {}, {}, configured=False)
    rows = (
        Earning.objects.filter(project=project)
        .values("person_id")
        .annotate(
            amount=Sum("amount"),
            active=Sum("active_seconds"),
            answers=Count("pk", filter=Q(event__in=FIRST_PAY_EVENTS, part=EarningPart.BASE)),
        )
        .filter(active__gte=RATE_MIN_SECONDS)
    )
    rates, seconds_per_answer = [], []
    for row in rows:
        rates.append(row["amount"] * 3600 / row["active"])
        if row["answers"]:
            seconds_per_answer.append(Decimal(row["active"]) / row["answers"])
    rates.sort()
    median = statistics.median(rates) if rates else None
    quantiles = {}
    if len(rates) >= 2:
        cuts = statistics.quantiles(rates, n=10, method="inclusive")
        quantiles = {
            "p10": cuts[0],
            "p25": _quartile(rates, 1),
            "p50": median,
            "p75": _quartile(rates, 3),
            "p90": cuts[8],
        }
    elif rates:
        quantiles = {"p50": median}
    below = floor is not None and median is not None and median < floor
    needed, now = {}, {}
    if below and pay is not None:
        if pay.basis == PayBasis.HOUR:
            now["hourly_rate"] = pay.hourly_rate
            # Under the floor at a rate above it: active time beyond the lease is not paid.
            # Scaling the rate by floor ÷ median still reaches the floor at that ratio.
            if median > 0 and pay.hourly_rate > 0:
                needed["hourly_rate"] = _up(pay.hourly_rate * floor / median)
            else:
                needed["hourly_rate"] = _up(max(floor, pay.hourly_rate))
        else:
            now["accepted_rate"] = pay.accepted_rate
            if median > 0 and pay.accepted_rate > 0:
                needed["accepted_rate"] = _up(pay.accepted_rate * floor / median)
            else:
                per_answer = statistics.median(seconds_per_answer) if seconds_per_answer else 0
                needed["accepted_rate"] = _up(floor * Decimal(per_answer) / 3600)
    return FairPay(
        currency=currency,
        floor=floor,
        people=len(rates),
        median=median,
        quantiles=quantiles,
        rates=rates,
        below_floor=below,
        rate_needed=needed,
        rate_now=now,
    )


def _quartile(values: list[Decimal], which: int) -> Decimal:
    return statistics.quantiles(values, n=4, method="inclusive")[which - 1]


def fair_pay_figure(project: Project) -> dict:
    """``fair_pay`` in ``GET /api/v1/projects/{id}/``."""
    return fair_pay_for(project=project).as_dict()
