"""Weights of a task's answers in its consensus, given by apps that know more about an answerer.

The quality step weighs people equally. An app whose contributors are of another sort (the
backends app: a model version answering as a contributor) connects a listener to
:data:`quality.events.answer_weights_hook` in its ``AppConfig.ready()``; a listener returns one
positive weight per answer, or ``None`` when it has nothing to say about these answers (then the
next one is asked, and at last equal weights are used). Quality must not import the apps built on
it, hence the hook.
"""

from quality.events import answer_weights_hook


def answer_weights(*, answers: list, contributors: dict) -> list[float] | None:
    for weigher in answer_weights_hook.listeners.values():
        weights = weigher(answers=answers, contributors=contributors)
        if weights is not None:
            return weights
    return None
