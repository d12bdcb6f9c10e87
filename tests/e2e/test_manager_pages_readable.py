"""The manager's tables and charts read well at 1280 px, in a real Chromium: the data manager
shows each task in a line of words from its kind (a thumbnail and a grid for images), never
breaks an id or a status mid-word, and keeps the import form folded once there are tasks; the
dashboard's charts are drawn large enough to read, with times in hours and minutes."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import Task
from annotation.services import task_create_with_media
from labelhub.models import Role
from tests.e2e.test_review import log_in
from tests.factories import make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is the capital of Australia, and why not Sydney?"},
    {"role": "assistant", "content": "Canberra: a compromise between Sydney and Melbourne."},
]


def one_line(page: Page, locator) -> bool:
    """The element's text is laid out on one line (no break inside a word or between words)."""
    return locator.evaluate(
        """element => {
          const range = document.createRange();
          range.selectNodeContents(element);
          const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
          return tops.size === 1;
        }"""
    )


def test_the_data_manager_reads_as_words_at_1280(live_server, page: Page):
    maria = make_user("maria")
    project = make_project(
        kind="conversation",
        schema={
            "modes": ["rate"],
            "criteria": [{"name": "accuracy", "scale": 5, "per": "turn"}],
            "error_types": [],
        },
        members={maria: Role.MANAGER},
    )
    for n in range(3):
        Task.objects.create(
            project=project, data={"messages": CHAT}, external_id=f"chat-{9060 + n}"
        )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, maria)
    page.goto(live_server.url + reverse("annotation:task-list", args=[project.pk]))

    summary = page.get_by_test_id("task-summary").first
    expect(summary).to_have_text(
        "3 turns · “What is the capital of Australia, and why not Sydney?”"
    )
    expect(page.get_by_test_id("task-row").first).not_to_contain_text('"role"')
    for cell in (page.get_by_test_id("task-link").first, page.get_by_test_id("task-status").first):
        assert one_line(page, cell), cell.inner_text()
    # The import form is folded once there are tasks, and says what it takes.
    details = page.get_by_test_id("import-details")
    expect(details).not_to_have_attribute("open", "")
    assert page.locator("#import").bounding_box()["height"] < 120
    expect(page.get_by_test_id("view-toggle")).to_have_count(0)  # no pictures: no grid


def test_image_tasks_have_thumbnails_and_a_grid_view(live_server, page: Page):
    maria = make_user("maria")
    project = make_project(
        kind="bbox",
        schema={"labels": [{"name": "car", "colour": "#e6194b", "hotkey": 1}]},
        members={maria: Role.MANAGER},
    )
    for n in range(3):
        task_create_with_media(
            project=project,
            media_field="image",
            file=png_bytes(200, 150),
            filename=f"street-{n}.png",
            external_id=f"street-{n}",
        )
    log_in(page, live_server, maria)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + reverse("annotation:task-list", args=[project.pk]))
    expect(page.get_by_test_id("task-thumb")).to_have_count(3)
    expect(page.get_by_test_id("task-summary").first).to_contain_text("· 200×150")
    page.get_by_test_id("view-grid").click()
    tiles = page.get_by_test_id("task-tile")
    expect(tiles).to_have_count(3)
    picture = tiles.first.locator("img")
    expect(picture).to_be_visible()
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert picture.evaluate("img => img.naturalWidth") > 0
    assert picture.bounding_box()["width"] >= 150
    # The filter keeps the grid.
    page.get_by_test_id("filter-status").select_option("open")
    expect(page.get_by_test_id("task-tile")).to_have_count(3)
    page.get_by_test_id("view-table").click()
    expect(page.get_by_test_id("task-row")).to_have_count(3)


def test_the_dashboards_charts_are_readable_at_1280_and_times_are_in_hours(live_server, page: Page):
    maria, ana = make_user("maria"), make_user("ana", first_name="Ana")
    project = make_project(
        kind="bbox",
        schema={"labels": [{"name": "car", "colour": "#e6194b", "hotkey": 1}]},
        quality={"overlap": 1, "review_policy": "none"},
        members={maria: Role.MANAGER, ana: Role.CONTRIBUTOR},
    )
    for n in range(2):
        task_create_with_media(
            project=project,
            media_field="image",
            file=png_bytes(200, 150),
            filename=f"s-{n}.png",
        )
    for seconds in (5000, 6078):  # 11078 s in all
        lease = queue.assignment_claim_next(project=project, contributor=ana)
        queue.annotation_submit(
            assignment_id=lease.pk,
            contributor=ana,
            result={"boxes": [{"label": "car", "x": 1, "y": 1, "w": 30, "h": 30}]},
            active_seconds=seconds,
        )
    log_in(page, live_server, maria)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + reverse("quality:dashboard", args=[project.pk]))
    charts = page.locator("svg.chart")
    expect(charts.first).to_be_visible()
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box["width"] >= 440, box
    # Tick labels are drawn at 11 px or more on the screen.
    tick = page.locator("svg.chart .tick").first
    size = tick.evaluate("t => t.getBoundingClientRect().height")
    assert size >= 11, size
    row = page.get_by_test_id("contributor-row").first
    expect(row).to_contain_text("3 h 04 min")
    expect(row).not_to_contain_text("11078")
