"""The hooks sandbox fires, for the apps above it (see :mod:`labelhub.hooks`)."""

from labelhub.hooks import Hook, When

audit_rubric_actions = Hook(
    "audits.rubric_actions",
    when=When.ON_READ,
    arguments="request, task, attempts",
    doc="An audit page is drawn: each listener returns {attempt id: HTML} to show under the "
    "attempt's rubric (evals: the buttons that have a judge model grade the claims).",
)
