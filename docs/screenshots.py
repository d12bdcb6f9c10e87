"""Take the README's screenshots from a running demo (`make run`), one PNG per screen.

    .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000] [--only NAMES] [--suffix -before]

``--only tasks,dashboard`` takes some screens (by file name), ``--suffix`` names the files apart
(before/after pictures of a change). Uses Playwright with the system's Chromium when there is one
(else Playwright's own), at 1280×800, logged in as the demo people. Writes docs/screenshots/*.png.
"""

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "labelhub-demo"  # noqa: S105 - the demo's published password
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def log_in(page: Page, base: str, username: str) -> dict[str, int]:
    """Log in; return the person's project ids by kind (from the API, with the session)."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    projects = page.request.get(f"{base}/api/v1/projects/").json()
    rows = projects["results"] if isinstance(projects, dict) else projects
    return {row["kind"]: row["id"] for row in rows}


ONLY: set[str] = set()
SUFFIX = ""


def wanted(name: str) -> bool:
    return not ONLY or name in ONLY


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    if not wanted(name):
        return
    page.wait_for_timeout(700)  # let images, fonts and the editor settle
    path = OUT / f"{name}{SUFFIX}.png"
    page.screenshot(path=path, full_page=full_page)
    print("wrote", path)


def work(page: Page, base: str, project_id: int, name: str) -> None:
    if not wanted(name):
        return
    page.goto(f"{base}/projects/{project_id}/label/")
    start = page.locator("[data-testid=start]")
    if start.count():
        start.click()
    page.wait_for_selector("[data-editor-root][data-mounted=true]", state="attached")
    shot(page, name)


def main(base: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        executable = shutil.which("chromium")
        browser = playwright.chromium.launch(
            executable_path=executable, args=ARGS if executable else []
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        ids = log_in(page, base, "maria")
        shot(page, "home")
        page.goto(f"{base}/projects/{ids['bbox']}/settings/")
        shot(page, "settings")
        page.goto(f"{base}/projects/{ids['bbox']}/tasks/")
        shot(page, "tasks")
        if wanted("tasks-grid"):
            page.goto(f"{base}/projects/{ids['bbox']}/tasks/?view=grid")
            shot(page, "tasks-grid")
        if "conversation" in ids and wanted("tasks-conversation"):
            page.goto(f"{base}/projects/{ids['conversation']}/tasks/")
            shot(page, "tasks-conversation")
        page.goto(f"{base}/projects/{ids['ranking']}/quality/")
        shot(page, "dashboard")
        if wanted("dashboard-full"):
            shot(page, "dashboard-full", full_page=True)
        page.goto(f"{base}/projects/{ids['bbox']}/pay/")
        shot(page, "pay")
        page.goto(f"{base}/organizations/acme-ai/people/")
        shot(page, "people")
        if "conversation" in ids:
            work(page, base, ids["conversation"], "work-conversation")

        ids = log_in(page, base, "ana")
        work(page, base, ids["bbox"], "work-bbox")
        work(page, base, ids["ranking"], "work-ranking")
        work(page, base, ids["transcription"], "work-transcription")

        ids = log_in(page, base, "carla")  # two weeks of simulated work: a full record
        page.goto(f"{base}/projects/{ids['ranking']}/my-work/")
        shot(page, "my-work")
        page.goto(f"{base}/statements/")
        shot(page, "statement")

        ids = log_in(page, base, "rui")
        page.goto(f"{base}/projects/{ids['ranking']}/reviews/")
        shot(page, "review-queue")
        page.goto(f"{base}/projects/{ids['ranking']}/reviews/next/")
        shot(page, "review")
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--only", default="", help="screens to take, by name, comma-separated")
    parser.add_argument("--suffix", default="", help="added to each file name, e.g. -before")
    arguments = parser.parse_args()
    ONLY = {name for name in arguments.only.split(",") if name}
    SUFFIX = arguments.suffix
    main(arguments.base)
