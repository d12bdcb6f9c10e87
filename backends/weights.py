"""A model version's weight in consensus: its gold accuracy (people keep weight 1).

Registered with ``quality.answer_weights`` in ``BackendsConfig.ready()``; called once per task
inside the quality step's batch, so it asks the database nothing: a version's user is known by
the marks ``backends.services.version_for`` gives it (inactive, no usable password, a
``model-`` name). A version with no gold answer yet weighs 1 like a newcomer; a weight never falls
under ``FLOOR`` (the kinds want positive weights).
"""

FLOOR = 0.05
USERNAME_PREFIX = "model-"


def is_model_user(user) -> bool:
    return (
        user is not None
        and not user.is_active
        and user.get_username().startswith(USERNAME_PREFIX)
        and not user.has_usable_password()
    )


def model_weights(*, answers: list, contributors: dict) -> list[float] | None:
    models = {uid for uid, pc in contributors.items() if is_model_user(getattr(pc, "user", None))}
    if not any(a.contributor_id in models for a in answers):
        return None  # only people: equal weights, as before
    weights = []
    for answer in answers:
        pc = contributors.get(answer.contributor_id)
        mean = pc.gold_mean_score if answer.contributor_id in models else None
        weights.append(1.0 if mean is None else max(FLOOR, min(1.0, mean)))
    return weights
