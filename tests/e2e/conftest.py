import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Every console error and page error of the test (CSP violations are console errors)."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


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
