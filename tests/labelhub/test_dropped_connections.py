"""A request notices a connection PostgreSQL dropped without asking the database
(labelhub/dropped_connections.py)."""

import time

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Every statement psycopg sends, Django's health check (``Connection.execute``) included."""
    log: list[str] = []
    cursor_execute, connection_execute = psycopg.Cursor.execute, psycopg.Connection.execute

    def on_cursor(self, query, *args, **kwargs):
        log.append(str(query))
        return cursor_execute(self, query, *args, **kwargs)

    def on_connection(self, query, *args, **kwargs):
        log.append(str(query))
        return connection_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", on_cursor)
    monkeypatch.setattr(psycopg.Connection, "execute", on_connection)
    return log


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def side_connection() -> psycopg.Connection:
    """A connection of the test's own, beside Django's."""
    config = connection.settings_dict
    return psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        dbname=config["NAME"],
        autocommit=True,
    )


def test_a_request_on_a_live_connection_sends_only_its_own_statements(sent):
    pid = backend_pid()
    sent.clear()
    request_started.send(sender=None)
    assert backend_pid() == pid  # the same connection serves the request...
    assert sent == ["SELECT pg_backend_pid()"]  # ...and nothing was sent to check it first


def test_a_connection_the_server_dropped_is_replaced_when_a_request_starts(sent):
    pid = backend_pid()
    with side_connection() as side:
        side.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the backend has gone, its farewell sent
            found = side.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if found.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    sent.clear()
    request_started.send(sender=None)
    assert sent == []  # noticed from the socket, not by asking
    assert connection.connection is None
    assert backend_pid() != pid  # the request's first query opened a new connection
