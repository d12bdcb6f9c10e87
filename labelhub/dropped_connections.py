"""A request starts on a fresh database connection when PostgreSQL dropped the old one, at no cost.

Django's own check (``CONN_HEALTH_CHECKS``) sends ``SELECT 1`` before each request's first query:
one round trip to the database on every request, an eighth of a claim's (docs/performance.md).
PostgreSQL tells a client it is going away instead: a restart, ``pg_terminate_backend`` or an idle
timeout writes an error message to the socket and closes it. An idle connection whose socket has
something to read has therefore been dropped, and :func:`close_dropped` asks the kernel that
(``poll`` with no wait) when a request starts, closing such connections so that the request's
first query opens a new one. Nothing is sent.

What neither check sees in time is a network that goes silent without closing (the ``SELECT 1``
would wait for it as long as the request's own query does). A connection that fails during a
request is still replaced at the next one (Django checks a connection once a query on it has
failed), and the worker (``worker/resilient.py``) survives a lost connection on its own.
"""

import select

from django.db import connections


def dropped(raw) -> bool:
    """Whether this idle psycopg connection was closed by the server (or is unusable)."""
    if raw.closed or raw.broken:
        return True
    try:
        fd = raw.pgconn.socket
    except Exception:  # psycopg raises OperationalError for a closed pgconn
        return True
    # An idle connection has nothing to read unless the server wrote its farewell (or hung up).
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def close_dropped(**kwargs) -> None:
    """``request_started``: close each PostgreSQL connection of this thread that was dropped."""
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is None or conn.vendor != "postgresql" or conn.in_atomic_block:
            continue
        if dropped(raw):
            conn.close()
