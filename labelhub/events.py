"""Hooks the apps above labelhub use to react to a project's changes once they are committed.

Dependencies point ``labelhub ← annotation ← quality``, so labelhub cannot call annotation when a
project changes the order its queue hands tasks out in; annotation registers a callback here (in
``AnnotationConfig.ready()``) and :func:`labelhub.services.project_update` calls
:func:`queue_order_changed`. As with ``annotation.events``: no model signals, the call is visible.
"""

from collections.abc import Callable
from functools import partial

from django.db import transaction

ProjectCallback = Callable[..., None]  # callback(*, project_id: int)
_queue_order_callbacks: list[ProjectCallback] = []


def on_queue_order_changed(callback: ProjectCallback) -> ProjectCallback:
    if callback not in _queue_order_callbacks:
        _queue_order_callbacks.append(callback)
    return callback


def queue_order_changed(*, project_id: int) -> None:
    """Schedule the registered callbacks for after the current transaction commits."""
    for callback in _queue_order_callbacks:
        transaction.on_commit(partial(callback, project_id=project_id), robust=True)
