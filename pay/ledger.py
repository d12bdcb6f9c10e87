"""Writing the ledger: each payable event adds entries in the transaction of the event.

What an answer is owed follows from the rates it was first paid at (its ``terms``) and its state:

* **per task**: ``accepted_rate`` while the answer stands (or, when the project's kind pays by
  level and the project set a rate for the answer's level, that level's rate: an environment
  task's difficulty), ``rejected_rate`` once a review has
  rejected it (a correction by its author or a reversal on appeal brings it back);
* **per hour**: ``hourly_rate`` × the answer's active time, capped by how long its lease lasted
  (server time, lease start to submit), whatever its verdict: time worked is time paid;
* **bonus**: ``bonus_per_task`` for each answer that stands, when at its first count the
  person's gold accuracy was credibly above the project's level (the lower end of the 95%
  Jeffreys interval).

Every event *settles* an answer: it writes the difference between what the answer is owed now
and what its entries already sum to, so entries are never edited and a reversal is a new entry.
Answers counted while a project had no rates (or was unpaid) have no entries; when rates are
set, the manager may pay them (:func:`answers_backpay`): one settlement per answer at the rates
of that moment, which become its terms. Gold and qualification answers are paid like any other,
when the quality step counts them — the same moment as every answer, so the ledger cannot tell
a gold task from a real one. Answers of model backends are not paid.

Locks: :func:`answers_judged` runs inside a judging batch, which holds the answers' rows; the
other events run under the lock of the answers' task (reviews and appeals take it first), so
two settlements of one answer never interleave.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from annotation.models import Annotation, Assignment, ProjectContributor
from labelhub.models import Project
from pay.models import (
    ZERO,
    Earning,
    EarningEvent,
    EarningPart,
    OrganizationPay,
    PayBasis,
    ProjectPay,
)
from quality.models import AnnotationReview, AnswerJudgement
from quality.stats import jeffreys_interval

CENT_FRACTION = Decimal("0.0001")
DEFAULT_CURRENCY = "USD"


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Terms:
    """The rates an answer is paid at, as recorded on its first entry."""

    basis: str
    accepted_rate: Decimal
    rejected_rate: Decimal
    hourly_rate: Decimal
    bonus_per_task: Decimal
    # The answer's pay level ("hard") when its accepted rate is that level's rate.
    level: str = ""

    @classmethod
    def of(cls, pay: ProjectPay, *, level: str | None = None) -> "Terms":
        """The project's rates for one answer: a level with its own rate is paid that rate."""
        level_rate = (pay.level_rates or {}).get(level) if level else None
        return cls(
            pay.basis,
            Decimal(level_rate) if level_rate is not None else pay.accepted_rate,
            pay.rejected_rate,
            pay.hourly_rate,
            pay.bonus_per_task,
            level if level_rate is not None else "",
        )

    @classmethod
    def from_json(cls, data: dict) -> "Terms":
        return cls(
            data.get("basis", PayBasis.TASK),
            Decimal(data.get("accepted_rate", "0")),
            Decimal(data.get("rejected_rate", "0")),
            Decimal(data.get("hourly_rate", "0")),
            Decimal(data.get("bonus_per_task", "0")),
            data.get("level", ""),
        )

    def as_json(self) -> dict:
        terms = {
            "basis": self.basis,
            "accepted_rate": str(self.accepted_rate),
            "rejected_rate": str(self.rejected_rate),
            "hourly_rate": str(self.hourly_rate),
            "bonus_per_task": str(self.bonus_per_task),
        }
        if self.level:
            terms["level"] = self.level
        return terms

    def base_owed(self, *, rejected: bool) -> Decimal:
        """Per task: what the answer's base pay comes to in its current state."""
        return self.rejected_rate if rejected else self.accepted_rate


def currency_of(*, organization_id: int) -> str:
    found = OrganizationPay.objects.filter(organization_id=organization_id).values_list(
        "currency", flat=True
    )
    return next(iter(found), DEFAULT_CURRENCY)


def _model_users(user_ids: Iterable[int]) -> set[int]:
    from backends.models import ModelVersion  # a model answers as a user: it is not paid

    return set(
        ModelVersion.objects.filter(user_id__in=set(user_ids)).values_list("user_id", flat=True)
    )


@dataclass
class _Paid:
    """What an answer's entries sum to so far."""

    terms: Terms | None = None
    base: Decimal = ZERO
    bonus: Decimal = ZERO
    bonus_granted: bool = False
    person_id: int | None = None
    # Where the answer was first paid (organization, project, project name, currency): later
    # entries of the answer are written to the same.
    where: tuple | None = None


def _paid_so_far(annotation_ids: Iterable[int]) -> dict[int, _Paid]:
    paid: dict[int, _Paid] = defaultdict(_Paid)
    rows = (
        Earning.objects.filter(annotation_id__in=list(annotation_ids))
        .order_by("pk")
        .values_list(
            "annotation_id",
            "person_id",
            "event",
            "part",
            "amount",
            "terms",
            "organization_id",
            "project_id",
            "project_name",
            "currency",
        )
    )
    for annotation_id, person_id, event, part, amount, terms, *where in rows:
        entry = paid[annotation_id]
        entry.person_id = person_id
        if entry.terms is None and terms:
            entry.terms = Terms.from_json(terms)
            entry.where = tuple(where)
        if part == EarningPart.BONUS:
            entry.bonus += amount
            if event == EarningEvent.JUDGED and amount > 0:
                entry.bonus_granted = True
        else:
            entry.base += amount
    return paid


def _bonus_eligible(*, project: Project, user_ids: set[int], level: float) -> set[int]:
    """People whose gold accuracy's lower 95% bound is above ``level``."""
    eligible = set()
    rows = ProjectContributor.objects.filter(project=project, user_id__in=user_ids).values_list(
        "user_id", "gold_answered_count", "gold_score_sum"
    )
    for user_id, answered, score_sum in rows:
        if answered and jeffreys_interval(min(score_sum, answered), answered).low > level:
            eligible.add(user_id)
    return eligible


def answer_levels(*, project: Project, pay: ProjectPay, answer_ids: Iterable[int]) -> dict:
    """The pay level of each answer, by id, for a project that set rates per level (one query;
    none when the project pays every answer alike). The kind says the level of an answer."""
    kind = project.installed_kind
    if not pay.level_rates or kind is None or not kind.pay_level_name:
        return {}
    results = Annotation.objects.filter(pk__in=list(answer_ids)).values_list("pk", "result")
    return {pk: kind.pay_level(result, schema=project.schema) for pk, result in results}


def _seconds(later, earlier) -> int:
    if later is None or earlier is None:
        return 0
    # Rounded up: an answer submitted within a second of its claim was leased for one second.
    return max(0, math.ceil((later - earlier).total_seconds()))


def answers_judged(*, project: Project, answers: Sequence[Annotation]) -> int:
    """Pay the answers a judging batch counted (first count, or again after a correction);
    return how many entries were written. A handful of statements per batch, none per answer."""
    pay = ProjectPay.objects.filter(project=project).first()
    if pay is None or pay.basis == PayBasis.UNPAID or not answers:
        return 0
    models = _model_users(a.contributor_id for a in answers)
    answers = [a for a in answers if a.contributor_id not in models]
    if not answers:
        return 0
    now = timezone.now()
    currency = currency_of(organization_id=project.organization_id)
    paid = _paid_so_far(a.pk for a in answers)
    leases = {
        pk: (created, finished)
        for pk, created, finished in Assignment.objects.filter(
            pk__in=[a.assignment_id for a in answers]
        ).values_list("pk", "created_at", "finished_at")
    }
    again = [a.pk for a in answers if a.pk in paid]
    sent_back_at = (
        dict(
            AnnotationReview.objects.filter(annotation_id__in=again, sent_back=True)
            .order_by("annotation_id", "review__created_at")
            .values_list("annotation_id", "review__created_at")
        )
        if again
        else {}
    )
    levels = answer_levels(project=project, pay=pay, answer_ids=[a.pk for a in answers])
    eligible = (
        _bonus_eligible(
            project=project,
            user_ids={a.contributor_id for a in answers if a.pk not in paid},
            level=pay.bonus_accuracy,
        )
        if pay.bonus_per_task > 0
        else set()
    )
    entries = []
    for answer in answers:
        before = paid.get(answer.pk)
        first = before is None
        if first or before.terms is None:
            terms = Terms.of(pay, level=levels.get(answer.pk))
        else:
            terms = before.terms
        created, finished = leases.get(answer.assignment_id, (None, None))
        if first:
            lease = _seconds(answer.created_at, created)
            event = EarningEvent.JUDGED
        else:
            lease = _seconds(finished, sent_back_at.get(answer.pk))
            event = EarningEvent.REVISED
        active = answer.active_seconds
        if terms.basis == PayBasis.HOUR:
            base = money(terms.hourly_rate * min(active, lease) / 3600)
        else:
            base = money(terms.base_owed(rejected=False) - (ZERO if first else before.base))
        common = {
            "organization_id": project.organization_id,
            "project": project,
            "project_name": project.name,
            "person_id": answer.contributor_id,
            "annotation_id": answer.pk,
            "event": event,
            "currency": currency,
            "created_at": now,
        }
        entries.append(
            Earning(
                **common,
                part=EarningPart.BASE,
                amount=base,
                active_seconds=active,
                lease_seconds=lease,
                terms=terms.as_json() if first else {},
            )
        )
        granted = answer.contributor_id in eligible if first else before.bonus_granted
        bonus = money(
            (terms.bonus_per_task if granted else ZERO) - (ZERO if first else before.bonus)
        )
        if bonus:
            entries.append(Earning(**common, part=EarningPart.BONUS, amount=bonus))
    Earning.objects.bulk_create(entries)
    return len(entries)


def annotations_settle(*, annotation_ids: Sequence[int], event: str, note: str = "") -> int:
    """Bring each answer's entries to what it is owed in its current state (rejected or not),
    as new entries; return how many were written. For reviews and appeals: the caller holds the
    answers' task lock. Answers never paid (no rates then, or a model's) are left alone."""
    paid = _paid_so_far(annotation_ids)
    if not paid:
        return 0
    rejected = set(
        AnnotationReview.objects.filter(
            annotation_id__in=list(paid), judgement=AnswerJudgement.REJECTED
        ).values_list("annotation_id", flat=True)
    )
    now = timezone.now()
    entries = []
    for annotation_id, before in paid.items():
        if before.terms is None:
            continue
        organization_id, project_id, name, currency = before.where
        common = {
            "organization_id": organization_id,
            "project_id": project_id,
            "project_name": name,
            "person_id": before.person_id,
            "annotation_id": annotation_id,
            "event": event,
            "currency": currency,
            "created_at": now,
            "note": note[:300],
        }
        stands = annotation_id not in rejected
        if before.terms.basis == PayBasis.TASK:
            base = money(before.terms.base_owed(rejected=not stands) - before.base)
            if base:
                entries.append(Earning(**common, part=EarningPart.BASE, amount=base))
        owed = before.terms.bonus_per_task if before.bonus_granted and stands else ZERO
        bonus = money(owed - before.bonus)
        if bonus:
            entries.append(Earning(**common, part=EarningPart.BONUS, amount=bonus))
    Earning.objects.bulk_create(entries)
    return len(entries)


def answers_rejected(*, project: Project, annotation_ids: Sequence[int]) -> int:
    return annotations_settle(annotation_ids=annotation_ids, event=EarningEvent.REJECTED)


def answers_unpaid(*, project: Project):
    """People's answers on the project that the quality step counted but the ledger never paid
    (made before the project had rates, or while it was unpaid). Model backends' answers are
    not paid and are left out."""
    from backends.models import ModelVersion  # a model answers as a user: it is not paid

    return (
        Annotation.objects.filter(task__project=project, judged_at__isnull=False)
        .exclude(earnings__isnull=False)
        .exclude(contributor_id__in=ModelVersion.objects.values("user_id"))
    )


def answers_backpay(*, project: Project, now=None) -> int:
    """Pay the project's counted, never-paid answers at its current rates; return how many
    answers were paid. One settlement per answer (``backpay`` entries whose ``terms`` are
    today's rates, so a later rejection or reversal moves it between them like any answer):
    per task ``accepted_rate``, or ``rejected_rate`` for an answer a review rejected; per hour
    ``hourly_rate`` × active time capped by its lease. No accuracy bonus: whether the person was
    credibly above the level when the answer was counted is not known now.

    Takes the answers' row locks (a judging batch holds the same rows), so an answer is paid
    once even when the quality step counts it again meanwhile. The caller opens the
    transaction. A project with no rates, or unpaid, pays nothing."""
    pay = ProjectPay.objects.filter(project=project).first()
    if pay is None or pay.basis == PayBasis.UNPAID:
        return 0
    ids = list(answers_unpaid(project=project).values_list("pk", flat=True))
    if not ids:
        return 0
    answers = list(
        Annotation.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .only("pk", "contributor_id", "assignment_id", "active_seconds", "created_at")
    )
    already = set(
        Earning.objects.filter(annotation_id__in=ids).values_list("annotation_id", flat=True)
    )
    answers = [a for a in answers if a.pk not in already]
    rejected = set(
        AnnotationReview.objects.filter(
            annotation_id__in=[a.pk for a in answers], judgement=AnswerJudgement.REJECTED
        ).values_list("annotation_id", flat=True)
    )
    leases = dict(
        Assignment.objects.filter(pk__in=[a.assignment_id for a in answers]).values_list(
            "pk", "created_at"
        )
    )
    levels = answer_levels(project=project, pay=pay, answer_ids=[a.pk for a in answers])
    currency = currency_of(organization_id=project.organization_id)
    now = now or timezone.now()
    entries = []
    for answer in answers:
        terms = Terms.of(pay, level=levels.get(answer.pk))
        lease = _seconds(answer.created_at, leases.get(answer.assignment_id))
        if terms.basis == PayBasis.HOUR:
            amount = money(terms.hourly_rate * min(answer.active_seconds, lease) / 3600)
        else:
            amount = money(terms.base_owed(rejected=answer.pk in rejected))
        entries.append(
            Earning(
                organization_id=project.organization_id,
                project=project,
                project_name=project.name,
                person_id=answer.contributor_id,
                annotation_id=answer.pk,
                event=EarningEvent.BACKPAY,
                part=EarningPart.BASE,
                amount=amount,
                currency=currency,
                active_seconds=answer.active_seconds,
                lease_seconds=lease,
                terms=terms.as_json(),
                created_at=now,
            )
        )
    Earning.objects.bulk_create(entries)
    return len(entries)
