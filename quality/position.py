"""Position bias and ties in comparison work: does the candidate shown first win more often than
chance says it should, and how often do people call a tie?

Each answer of a kind that shows candidates is kept with the order it was shown in
(``Annotation.shown_order``); the kind says how the first shown fared in it
(``TaskKind.position_outcome``), so nothing here knows a kind by name.

The math: the share of decided answers (ties left out) that the first shown won, with its 95 %
Wilson interval, against the share expected by chance (the mean of ½ for a pair, 1/n for n
candidates ranked). The interval leaving the expected share out is called a bias; fewer than
:data:`MIN_DECIDED` decided answers are too few to say anything. The tie rate is the share of
answers that are ties, among the answers whose question allows one, with its interval too.
Per contributor as well as per project: one person's strong habit of picking the first shown is
the useful finding, and it can hide inside a project's average.
"""

from collections import defaultdict
from dataclasses import dataclass

from annotation.models import Annotation
from kinds import PositionOutcome
from labelhub.models import Project
from quality.stats import Interval, wilson_interval

MIN_DECIDED = 10  # fewer decided answers than this: no verdict, only the counts
RECENT_ANSWERS = 20_000  # the report reads the project's newest answers, this many at most


@dataclass(frozen=True)
class PositionFigures:
    """The figures of one set of answers (a project's, or one person's in it)."""

    answers: int  # answers whose position could be judged
    decided: int  # of them, not ties
    first_won: int
    expected: float | None  # the share the first shown would win by chance
    share: float | None
    interval: Interval | None
    tie_possible: int  # answers whose question allows a tie
    ties: int
    tie_rate: float | None
    tie_interval: Interval | None
    verdict: str  # "bias_first", "bias_later", "no_bias", "too_few"

    @property
    def words(self) -> str:
        """What the figures mean, in one sentence for the dashboard."""
        if self.share is None or self.interval is None or self.expected is None:
            return "No decided answer yet."
        text = (
            f"First shown won {pct(self.share)} of {self.decided} decided answers "
            f"(95% CI {span_pct(self.interval)}), "
            f"{pct(self.expected)} expected by chance: "
        )
        return text + VERDICT_WORDS[self.verdict]

    @property
    def cells(self) -> dict[str, str]:
        """The table's cells as text ("—" where there is nothing to show)."""
        dash = "—"
        return {
            "share": dash if self.share is None else pct(self.share),
            "interval": dash if self.interval is None else span_pct(self.interval),
            "expected": dash if self.expected is None else pct(self.expected),
            "ties": dash
            if self.tie_rate is None
            else f"{pct(self.tie_rate)} of {self.tie_possible}",
        }

    @property
    def tie_words(self) -> str:
        if self.tie_rate is None or self.tie_interval is None:
            return "Ties are not an answer here."
        return (
            f"Ties: {pct(self.tie_rate)} of {self.tie_possible} answers "
            f"(95% CI {span_pct(self.tie_interval)})."
        )

    def as_dict(self) -> dict:
        def span(interval: Interval | None) -> list[float] | None:
            return None if interval is None else [round(interval.low, 4), round(interval.high, 4)]

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "answers": self.answers,
            "decided": self.decided,
            "first_won": self.first_won,
            "first_won_share": rounded(self.share),
            "first_won_interval": span(self.interval),
            "expected": rounded(self.expected),
            "verdict": self.verdict,
            "words": self.words,
            "tie_possible": self.tie_possible,
            "ties": self.ties,
            "tie_rate": rounded(self.tie_rate),
            "tie_interval": span(self.tie_interval),
            "tie_words": self.tie_words,
        }


VERDICT_WORDS = {
    "bias_first": "bias toward the first shown.",
    "bias_later": "bias against the first shown.",
    "no_bias": "no sign of a position bias.",
    "too_few": f"too few answers to tell (at least {MIN_DECIDED} decided).",
}


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def span_pct(interval: Interval) -> str:
    """An interval as "55–67%"."""
    return f"{interval.low * 100:.0f}–{pct(interval.high)}"


def position_figures(outcomes: list[PositionOutcome]) -> PositionFigures:
    """The figures of these outcomes (pure)."""
    decided = [o for o in outcomes if o.first_won is not None]
    won = sum(1 for o in decided if o.first_won)
    with_ties = [o for o in outcomes if o.ties_possible]
    ties = sum(1 for o in with_ties if o.tie)
    expected = sum(o.expected for o in decided) / len(decided) if decided else None
    share = won / len(decided) if decided else None
    interval = wilson_interval(won, len(decided)) if decided else None
    if interval is None or expected is None or len(decided) < MIN_DECIDED:
        verdict = "too_few"
    elif interval.low > expected:
        verdict = "bias_first"
    elif interval.high < expected:
        verdict = "bias_later"
    else:
        verdict = "no_bias"
    return PositionFigures(
        answers=len(outcomes),
        decided=len(decided),
        first_won=won,
        expected=expected,
        share=share,
        interval=interval,
        tie_possible=len(with_ties),
        ties=ties,
        tie_rate=ties / len(with_ties) if with_ties else None,
        tie_interval=wilson_interval(ties, len(with_ties)) if with_ties else None,
        verdict=verdict,
    )


@dataclass(frozen=True)
class PositionReport:
    """A project's report: ``applicable`` is false for kinds that show no candidates."""

    applicable: bool
    project: PositionFigures
    contributors: list[tuple[str, PositionFigures]]
    shuffled: bool

    def as_dict(self) -> dict:
        return {
            "applicable": self.applicable,
            "shuffled": self.shuffled,
            "project": self.project.as_dict(),
            "contributors": [
                {"username": name, **figures.as_dict()} for name, figures in self.contributors
            ],
        }


def position_report(*, project: Project) -> PositionReport:
    """The project's position-bias and tie report from its newest answers (one query)."""
    kind = project.installed_kind
    shuffled = bool((project.quality or {}).get("shuffle_candidates", 1))
    if kind is None or not kind.shows_candidates:
        return PositionReport(False, position_figures([]), [], shuffled)
    rows = (
        Annotation.objects.filter(task__project_id=project.pk)
        .exclude(shown_order=[])
        .order_by("-id")
        .values_list("contributor__username", "result", "shown_order")[:RECENT_ANSWERS]
    )
    everyone: list[PositionOutcome] = []
    per_person: dict[str, list[PositionOutcome]] = defaultdict(list)
    for username, result, shown in rows:
        outcome = kind.position_outcome(result, shown_order=shown, schema=project.schema)
        if outcome is None:
            continue
        everyone.append(outcome)
        per_person[username].append(outcome)
    contributors = sorted(
        ((name, position_figures(outcomes)) for name, outcomes in per_person.items()),
        key=lambda item: (-item[1].decided, item[0]),
    )
    return PositionReport(True, position_figures(everyone), contributors, shuffled)
