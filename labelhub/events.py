"""The hooks labelhub fires, for the apps above it (see :mod:`labelhub.hooks`).

labelhub cannot call annotation when a project changes the order its queue hands tasks out in:
annotation connects a listener here (in ``AnnotationConfig.ready()``) and
:func:`labelhub.services.project_update` fires :data:`queue_order`.
"""

from labelhub.hooks import Hook, When

queue_order = Hook(
    "project.queue_order_changed",
    when=When.AFTER_COMMIT,
    arguments="project_id",
    doc="A project's queue order changed: its open tasks are ranked again.",
)
project_figures = Hook(
    "project.figures",
    when=When.ON_READ,
    arguments="project",
    doc="Figures the apps above add to a manager's GET /api/v1/projects/{id}/, each under its "
    "label (tasks, judging, fair_pay).",
)

queue_order_changed = queue_order.send
