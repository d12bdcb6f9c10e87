"""Named hooks: how a lower layer tells the layers above it that something happened, or asks them
for a part of a page, without importing them.

A hook is declared once, in the ``events.py`` of the app that fires it, with its name, the
arguments its listeners get (always keywords) and **when** they run:

``When.IN_TRANSACTION``
    At once, inside the caller's transaction: what the listener writes commits or rolls back with
    the event (pay's ledger moves with the answers the quality step counts). An exception undoes
    the event.
``When.AFTER_COMMIT``
    After the caller's transaction commits (``transaction.on_commit(…, robust=True)``): a failing
    listener is logged and never undoes the event (the quality step asked for after a submit).
``When.ON_READ``
    Asked while a page or an answer is drawn; each listener returns its part (a note, a panel,
    a figure) and writes nothing.

The apps above connect their listeners in ``AppConfig.ready()``. :func:`wiring` lists every hook
with its listeners (``tests/test_hooks.py`` prints it), so who listens to what reads in one place.
No model signals: the call that fires a hook is visible in the service.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import partial

from django.db import transaction


class When(StrEnum):
    IN_TRANSACTION = "in transaction"
    AFTER_COMMIT = "after commit"
    ON_READ = "on read"


_HOOKS: list["Hook"] = []


class Hook:
    """``Hook(name, when=…, arguments=…, doc=…)``: ``connect`` a listener, ``send`` an event, or
    ``collect`` what the listeners return (``ON_READ`` hooks)."""

    def __init__(self, name: str, *, when: When, arguments: str, doc: str) -> None:
        self.name, self.when, self.arguments, self.doc = name, when, arguments, doc
        self._listeners: dict[str, Callable] = {}
        _HOOKS.append(self)

    def __repr__(self) -> str:
        return f"<Hook {self.name} ({self.when})>"

    def connect[F: Callable](self, listener: F, *, label: str | None = None) -> F:
        """Add ``listener``; connecting it again (by its label, its dotted name by default)
        replaces it, so a second ``ready()`` changes nothing."""
        label = label or _dotted(listener)
        self._listeners[label] = listener
        return listener

    @property
    def listeners(self) -> dict[str, Callable]:
        return dict(self._listeners)

    def send(self, **arguments) -> None:
        """Tell every listener, now or after commit, as the hook says."""
        if self.when == When.ON_READ:
            raise TypeError(f"{self.name} is asked with collect(), not sent.")
        for listener in self._listeners.values():
            if self.when == When.AFTER_COMMIT:
                transaction.on_commit(partial(listener, **arguments), robust=True)
            else:
                listener(**arguments)

    def collect(self, **arguments) -> dict[str, object]:
        """Each listener's answer by its label, in the order they were connected."""
        if self.when != When.ON_READ:
            raise TypeError(f"{self.name} runs {self.when}: send() it.")
        return {label: listener(**arguments) for label, listener in self._listeners.items()}


def _dotted(listener: Callable) -> str:
    return f"{listener.__module__}.{listener.__qualname__}"


def wiring() -> list[tuple[str, str, str, list[str]]]:
    """Every hook: its name, when it runs, its arguments and its listeners (their dotted names;
    ``label: name`` where a listener was connected under a label of its own)."""
    return [
        (
            hook.name,
            str(hook.when),
            hook.arguments,
            [
                name if (name := _dotted(listener)) == label else f"{label}: {name}"
                for label, listener in hook._listeners.items()
            ],
        )
        for hook in _HOOKS
    ]
