"""Pay writes: a project's rates and an organization's pay settings, each audit-logged.

The ledger itself is written only by :mod:`pay.ledger`, from the events that earn money.
A change of rates applies to answers counted from then on: answers already paid keep the rates
they were paid at (their entries' ``terms``), so a rejection or reversal later moves them
between those rates, never today's.
"""

from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from labelhub.audit import audit_record, changed_fields
from labelhub.models import AuditAction, Organization, Project
from pay.ledger import answers_backpay
from pay.models import OrganizationPay, PayBasis, ProjectPay

RATE_FIELDS = ("accepted_rate", "rejected_rate", "hourly_rate", "bonus_per_task")
RATE_LIMIT = Decimal("100000")


def _amount(value, *, name: str, errors: dict) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = [f"{value!r} is not an amount like 0.25."]
        return None
    if not amount.is_finite() or amount < 0:
        errors[name] = ["An amount of 0 or more, like 0.25."]
        return None
    if amount >= RATE_LIMIT:
        errors[name] = [f"Under {RATE_LIMIT:,} per task or hour."]
        return None
    if amount.as_tuple().exponent < -4:
        errors[name] = ["At most four decimal places."]
        return None
    return amount


def project_pay_save(*, project: Project, actor: AbstractBaseUser, values: dict) -> ProjectPay:
    """Set the project's rates (only the keys given change; ``level_rates`` is replaced whole).
    Raises ``ValidationError`` keyed by field; nothing changes then."""
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        pay = ProjectPay.objects.select_for_update().filter(project=project).first()
        if pay is None:
            pay = ProjectPay(project=project)
        before = _rates_of(pay)
        if "basis" in values:
            if values["basis"] not in PayBasis.values:
                errors["basis"] = [
                    "The basis is task (per task), hour (per active hour) or unpaid "
                    "(volunteers or internal staff)."
                ]
            else:
                pay.basis = values["basis"]
        for name in RATE_FIELDS:
            if name in values:
                amount = _amount(values[name], name=name, errors=errors)
                if amount is not None:
                    setattr(pay, name, amount)
        if "level_rates" in values:
            level_rates = _level_rates(project=project, given=values["level_rates"], errors=errors)
            if level_rates is not None:
                pay.level_rates = level_rates
        if "bonus_accuracy" in values:
            try:
                level = float(values["bonus_accuracy"])
            except (TypeError, ValueError):
                level = -1.0
            if not 0 <= level <= 1:
                errors["bonus_accuracy"] = ["A share between 0 and 1, e.g. 0.9 for 90%."]
            else:
                pay.bonus_accuracy = level
        if errors:
            raise ValidationError(errors)
        pay.save()
        changes = changed_fields(before, _rates_of(pay))
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.PAY_RATES_CHANGED,
                project=project,
                summary="Pay: "
                + ", ".join(f"{k} {v['from']} → {v['to']}" for k, v in changes.items()),
                changes=changes,
            )
    return pay


def _level_rates(*, project: Project, given: object, errors: dict) -> dict | None:
    """The rates per level (``{level: amount}``, empty or ``None`` for a level paid the accepted
    rate), checked against the levels the project's kind offers; errors keyed
    ``level_rates.<level>``."""
    kind = project.installed_kind
    levels = kind.pay_levels(schema=project.schema) if kind is not None else []
    if not isinstance(given, dict):
        errors["level_rates"] = ["Rates per level are an object {level: amount}."]
        return None
    if not levels and given:
        errors["level_rates"] = ["This project's kind has no levels to pay at different rates."]
        return None
    cleaned = {}
    for level, value in given.items():
        name = f"level_rates.{level}"
        if level not in levels:
            errors[name] = [f"Not one of the project's levels: {', '.join(levels)}."]
        elif value is not None and str(value).strip() != "":
            amount = _amount(value, name=name, errors=errors)
            if amount is not None:
                cleaned[level] = str(amount.quantize(Decimal("0.0001")))
    return {level: cleaned[level] for level in levels if level in cleaned}


def project_pay_backpay(*, project: Project, actor: AbstractBaseUser) -> int:
    """Pay the answers counted before the project had rates (or while it was unpaid) at its
    current rates: one ``backpay`` settlement per answer (see :func:`pay.ledger.answers_backpay`).
    Returns how many answers were paid; raises ``ValidationError`` when there are no rates."""
    with transaction.atomic():
        pay = ProjectPay.objects.select_for_update().filter(project=project).first()
        if pay is None or pay.basis == PayBasis.UNPAID:
            raise ValidationError(
                {"basis": ["Set the project's rates first: earlier answers are paid at them."]}
            )
        paid = answers_backpay(project=project)
        if paid:
            audit_record(
                actor=actor,
                action=AuditAction.PAY_RATES_CHANGED,
                project=project,
                summary=f"Pay: {paid} answer{'s' if paid != 1 else ''} made before the rates "
                "were set paid at the current rates",
                changes={"backpay": {"from": 0, "to": paid}},
            )
    return paid


def _rates_of(pay: ProjectPay) -> dict:
    return {
        "basis": pay.basis,
        **{name: str(getattr(pay, name)) for name in RATE_FIELDS},
        "level_rates": dict(pay.level_rates or {}),
        "bonus_accuracy": pay.bonus_accuracy,
    }


def organization_pay_save(
    *, organization: Organization, actor: AbstractBaseUser, values: dict
) -> OrganizationPay:
    """Set the organization's currency and fair-pay floor per active hour (``None`` or "" for
    no floor). Raises ``ValidationError`` keyed by field."""
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        settings, _ = OrganizationPay.objects.select_for_update().get_or_create(
            organization=organization
        )
        before = {"currency": settings.currency, "fair_pay_floor": _text(settings.fair_pay_floor)}
        if "currency" in values:
            code = str(values["currency"] or "").strip().upper()
            if len(code) != 3 or not code.isalpha() or not code.isascii():
                errors["currency"] = ["A three-letter ISO 4217 code, e.g. USD, EUR or INR."]
            else:
                settings.currency = code
        if "fair_pay_floor" in values:
            floor = values["fair_pay_floor"]
            if floor is None or str(floor).strip() == "":
                settings.fair_pay_floor = None
            else:
                amount = _amount(floor, name="fair_pay_floor", errors=errors)
                if amount is not None:
                    settings.fair_pay_floor = amount
        if errors:
            raise ValidationError(errors)
        settings.save()
        after = {"currency": settings.currency, "fair_pay_floor": _text(settings.fair_pay_floor)}
        changes = changed_fields(before, after)
        if changes:
            audit_record(
                actor=actor,
                action=AuditAction.PAY_SETTINGS_CHANGED,
                organization=organization,
                summary="Pay settings: "
                + ", ".join(f"{k} {v['from']} → {v['to']}" for k, v in changes.items()),
                changes=changes,
            )
    return settings


def _text(value) -> str | None:
    return None if value is None else str(value)
