import re
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page


class ConsoleErrors(list):
    """The console errors and uncaught page errors of every page a test opens in its browser
    context (CSP violations are console errors), less those the test said it expects."""

    def __init__(self) -> None:
        super().__init__()
        self.expected: list[re.Pattern] = []

    def expect(self, pattern: str) -> None:
        """An error the test causes on purpose (a 404 of a missing file, a refused POST's 422):
        errors matching ``pattern`` (a regular expression) are not collected."""
        self.expected.append(re.compile(pattern))

    def add(self, text: str) -> None:
        if not any(pattern.search(text) for pattern in self.expected):
            self.append(text)

    def watch(self, target: Page | BrowserContext) -> None:
        """Collect from another page or context too (a second person's browser)."""
        target.on("console", lambda message: message.type == "error" and self.add(message.text))
        if isinstance(target, BrowserContext):
            target.on("weberror", lambda error: self.add(str(error.error)))
        else:
            target.on("pageerror", lambda error: self.add(str(error)))


@pytest.fixture(autouse=True)
def _quiet_database_before_flush(request: pytest.FixtureRequest):
    """Let the live server finish what the browser asked of it before the database is emptied.

    A page's last click may have sent a request (a draft autosave, a submit) that the live
    server's thread is still running when the test ends; the browser closes first, then
    pytest-django empties every table with one TRUNCATE. That TRUNCATE and the late request's
    UPDATE can take their locks in opposite orders: PostgreSQL ends one of them as a deadlock,
    the emptying fails, and the next test starts on the last one's rows (a CI run failed so).
    Defined before the fixtures that open the browser, this runs after the browser has closed
    and before the database is emptied: it waits until no other connection to the test
    database is running a statement or holding a transaction open, seen twice in a row.
    """
    yield
    if "page" not in request.fixturenames or connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 15.0
    quiet_in_a_row = 0
    while quiet_in_a_row < 2 and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            busy = cursor.fetchone()[0]
        quiet_in_a_row = 0 if busy else quiet_in_a_row + 1
        time.sleep(0.05)


@pytest.fixture
def console_errors(page: Page) -> ConsoleErrors:
    """Every console error and page error of the test, on every page of its context."""
    errors = ConsoleErrors()
    errors.watch(page.context)
    return errors


@pytest.fixture(autouse=True)
def _no_console_errors(request: pytest.FixtureRequest):
    """A browser test fails when any page it visited logged an error it did not expect: a CSP
    violation, a script error, a failed request. Tests that cause one say so with
    ``console_errors.expect(pattern)``."""
    if "page" not in request.fixturenames:
        yield
        return
    errors = request.getfixturevalue("console_errors")
    yield
    assert list(errors) == [], f"console errors on the pages this test visited: {list(errors)}"


@pytest.fixture
def open_preview(live_server, page: Page):
    """Log ``user`` in (by session cookie) and open the preview of ``task``; wait for the editor."""

    def open_(user, task, *, width: int = 1280, height: int = 800) -> Page:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        page.set_viewport_size({"width": width, "height": height})
        url = reverse(
            "annotation:task-preview", kwargs={"project_id": task.project_id, "task_id": task.pk}
        )
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector("[data-editor-root][data-mounted=true]")
        return page

    return open_


def wait_js(page: Page, expression: str, *, timeout: float = 15.0) -> None:
    """Wait until a JavaScript expression is true on the page.

    Playwright's ``wait_for_function`` re-evaluates its predicate with ``eval`` inside the page,
    which our Content-Security-Policy forbids; ``page.evaluate`` goes through the browser's
    debugging protocol instead, so polling it from here works under the CSP.
    """
    deadline = time.monotonic() + timeout
    probe = f"() => {{ try {{ return Boolean({expression}); }} catch {{ return false; }} }}"
    while not page.evaluate(probe):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for: {expression}")
        time.sleep(0.05)
