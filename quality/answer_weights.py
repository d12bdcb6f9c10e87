"""Weights of a task's answers in its consensus, given by apps that know more about an answerer.

The quality step weighs people equally. An app whose contributors are of another sort (the
backends app: a model version answering as a contributor) registers a weigher in its
``AppConfig.ready()``; a weigher returns one positive weight per answer, or ``None`` when it has
nothing to say about these answers (then the next one is asked, and at last equal weights are
used). Kept here, not in the other app, because quality must not import the apps built on it.
"""

from collections.abc import Callable

Weigher = Callable[..., list[float] | None]  # weigher(*, answers, contributors)
_weighers: list[Weigher] = []


def register_weigher(weigher: Weigher) -> Weigher:
    if weigher not in _weighers:
        _weighers.append(weigher)
    return weigher


def answer_weights(*, answers: list, contributors: dict) -> list[float] | None:
    for weigher in _weighers:
        weights = weigher(answers=answers, contributors=contributors)
        if weights is not None:
            return weights
    return None
