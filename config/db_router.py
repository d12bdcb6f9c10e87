"""Reads that can take a moment's lag go to a PostgreSQL read replica (``DATABASE_REPLICA_URL``).

Only the heavy read-only screens are sent there: the quality dashboard, exports (the page and its
download, and the export API) and the task lists (the data manager and ``GET …/tasks/``). The
queue, submits, drafts, reviews, imports, the worker and everything else read and write the primary,
because they act on what they read.

A replica is a little behind the primary, so a person must never read from it what they just
changed there:

- a request that has written reads the primary from then on (the router sees the write), and so
  does any read inside a transaction;
- a response to a request that wrote (or to any POST, PUT, PATCH or DELETE outside those views:
  raw SQL such as an import's COPY passes no router) carries a short-lived cookie
  (``DATABASE_REPLICA_PIN_SECONDS``, 10 s by default, far above a healthy replica's lag) that sends
  that browser's next requests to the primary too: a manager who changed something and opens the
  dashboard sees the change. A script keeps the pin by sending the cookie back; one that keeps no
  cookies may read a task list up to the replica's lag old right after its own import.

The audit log and session rows do not count as writes for this (every export writes an audit row,
and logging in writes a session; neither is read back by what follows).
"""

from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PIN_COOKIE = "lh_primary"
# (URL name, methods) whose reads may come from the replica.
REPLICA_VIEWS = {
    "quality:dashboard": {"GET", "HEAD"},
    "annotation:task-list": {"GET", "HEAD"},
    "exports:export": {"GET", "HEAD", "POST"},  # a POST there only streams a small export
    "project-tasks": {"GET", "HEAD"},
    "api-project-export": {"GET", "HEAD"},
}
NOT_PINNING = {("labelhub", "auditevent"), ("sessions", "session"), ("axes", "accessattempt")}
# Who is asking is always read from the primary: a session or token made a moment ago must work.
ALWAYS_PRIMARY = {"sessions", "auth", "axes"}


@dataclass
class Reads:
    """What one request may read from the replica: its view allows it, and nothing pins it."""

    allowed: bool = False
    pinned: bool = False  # the browser wrote a moment ago (the cookie)
    wrote: bool = False  # this request wrote

    @property
    def use_replica(self) -> bool:
        return self.allowed and not self.pinned and not self.wrote


_reads: ContextVar[Reads | None] = ContextVar("labelhub_replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """Reads of an allowed request to the replica, every other read and every write to the
    primary; migrations run on the primary only (the replica copies them)."""

    def db_for_read(self, model, **hints) -> str:
        reads = _reads.get()
        if reads is None or not reads.use_replica or not replica_configured():
            return "default"
        if model._meta.app_label in ALWAYS_PRIMARY:
            return "default"
        if connections["default"].in_atomic_block:
            return "default"  # a transaction reads what it wrote
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        reads = _reads.get()
        if reads is not None and (model._meta.app_label, model._meta.model_name) not in NOT_PINNING:
            reads.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == "default"


def pin_seconds() -> int:
    return int(getattr(settings, "DATABASE_REPLICA_PIN_SECONDS", 10))


class ReplicaReadsMiddleware:
    """Decides per request whether its reads may come from the replica (see the module)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reads = Reads(pinned=PIN_COOKIE in request.COOKIES)
        token = _reads.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if response.streaming and reads.use_replica:
            response.streaming_content = _reading(reads, response.streaming_content)
        # Raw SQL (COPY, bulk updates) passes no router: a POST, PUT or DELETE that is not one of
        # the read-only views above counts as a write whatever it ran.
        if reads.wrote or (request.method not in SAFE_METHODS and not reads.allowed):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=pin_seconds(),
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        reads = _reads.get()
        match = request.resolver_match
        if reads is not None and match is not None:
            reads.allowed = request.method in REPLICA_VIEWS.get(match.view_name, ())


def _reading(reads: Reads, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed body (an export) reads on as its request would, after the view returned."""
    iterator = iter(chunks)
    while True:
        token = _reads.set(reads)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _reads.reset(token)
        yield chunk
