"""Pay: what a project pays, what each person earned, and the organization's fair-pay floor.

The ledger (:class:`Earning`) is append-only: every payable event adds an entry in the same
transaction as the event (an answer counted by the quality step, a rejection, a correction, an
appeal reversed), and a change of mind is a new entry, never an edit. A person's earnings on a
project are the sum of their entries; a statement is that sum over a week or a month.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from annotation.models import Annotation
from labelhub.models import Organization, Project

MONEY = {"max_digits": 12, "decimal_places": 4}
ZERO = Decimal("0")


class OrganizationPay(models.Model):
    """An organization's currency (ISO 4217) and its fair-pay floor per active hour."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="pay", primary_key=True
    )
    currency = models.CharField(max_length=3, default="USD")
    fair_pay_floor = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(fair_pay_floor__isnull=True) | Q(fair_pay_floor__gte=0),
                name="organization_pay_floor_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Pay settings of {self.organization}"


class PayBasis(models.TextChoices):
    TASK = "task", "Per task"
    HOUR = "hour", "Per active hour"
    # An explicit choice by the manager (volunteers, internal staff): answers write no entries.
    UNPAID = "unpaid", "Unpaid (volunteer or internal staff)"


class ProjectPay(models.Model):
    """A project's rates, or the manager's explicit choice that it is unpaid. Until a row
    exists the project's pay is *not set*: managers are warned and contributors told. Per task:
    ``accepted_rate`` for an answer that stands and ``rejected_rate`` (may be 0) for one a
    review rejected. Per hour: ``hourly_rate`` for the
    active time of every answer (never more than its lease lasted). Either way, a bonus per
    accepted answer for people whose gold accuracy is credibly above ``bonus_accuracy`` (the
    lower end of its 95% interval).

    ``level_rates`` (per task, kinds with pay levels such as an environment's difficulty):
    ``{level: "amount"}``, the accepted rate of an answer of that level; a level not in it is
    paid ``accepted_rate``."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="pay", primary_key=True
    )
    basis = models.CharField(max_length=10, choices=PayBasis.choices, default=PayBasis.TASK)
    accepted_rate = models.DecimalField(**MONEY, default=ZERO)
    rejected_rate = models.DecimalField(**MONEY, default=ZERO)
    hourly_rate = models.DecimalField(**MONEY, default=ZERO)
    level_rates = models.JSONField(default=dict, blank=True)
    bonus_per_task = models.DecimalField(**MONEY, default=ZERO)
    bonus_accuracy = models.FloatField(default=0.9)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(basis__in=PayBasis.values), name="project_pay_basis_valid"
            ),
            models.CheckConstraint(
                condition=Q(accepted_rate__gte=0)
                & Q(rejected_rate__gte=0)
                & Q(hourly_rate__gte=0)
                & Q(bonus_per_task__gte=0),
                name="project_pay_rates_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(bonus_accuracy__gte=0) & Q(bonus_accuracy__lte=1),
                name="project_pay_bonus_accuracy_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Pay of {self.project}"


class EarningEvent(models.TextChoices):
    JUDGED = "judged", "Answer counted"
    REJECTED = "rejected", "Rejected by a review"
    REVISED = "revised", "Corrected after a rejection"
    APPEAL_REVERSED = "appeal_reversed", "Reversed on appeal"
    # An answer made before the project had rates, paid when its manager chose to.
    BACKPAY = "backpay", "Paid when rates were set"


# The events that pay an answer for the first time (counted in "answers" of statements).
FIRST_PAY_EVENTS = (EarningEvent.JUDGED, EarningEvent.BACKPAY)


class EarningPart(models.TextChoices):
    BASE = "base", "Pay"
    BONUS = "bonus", "Accuracy bonus"


class Earning(models.Model):
    """One entry of the ledger: an amount (negative for a take-back) and the time it pays for.

    ``terms`` records the rates an answer was first paid at, so a later rejection or reversal
    moves it between those rates, not today's. Entries outlive their project (``project_name``).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="earnings"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, related_name="earnings"
    )
    project_name = models.CharField(max_length=200)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="earnings"
    )
    annotation = models.ForeignKey(
        Annotation, on_delete=models.SET_NULL, null=True, blank=True, related_name="earnings"
    )
    event = models.CharField(max_length=20, choices=EarningEvent.choices)
    part = models.CharField(max_length=10, choices=EarningPart.choices, default=EarningPart.BASE)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    active_seconds = models.PositiveIntegerField(default=0)
    lease_seconds = models.PositiveIntegerField(default=0)
    terms = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "person", "created_at"], name="earning_person_period"
            ),
            models.Index(fields=["project", "person"], name="earning_project_person"),
            models.Index(fields=["annotation"], name="earning_annotation"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(event__in=EarningEvent.values), name="earning_event_valid"
            ),
            models.CheckConstraint(
                condition=Q(part__in=EarningPart.values), name="earning_part_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.person_id} ({self.event})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("The ledger is append-only: add a new entry instead.")
        super().save(*args, **kwargs)
