"""The data manager in a real Chromium: search and filter the tasks, act on several at once,
open one task with everything about it, make it gold from an answer or from the editor."""

import json

import pytest
from playwright.sync_api import Page, expect

from annotation import queue
from annotation.models import Assignment, AssignmentStatus, Task, TaskStatus
from annotation.services import task_create_with_media
from labelhub.models import AuditAction, AuditEvent, Role
from tests.e2e.conftest import wait_js
from tests.e2e.test_editor_bbox import drag, to_page
from tests.e2e.test_work_screen import log_in, mounted
from tests.factories import make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "labels": [
        {"name": "car", "colour": "#e6194b", "hotkey": 1},
        {"name": "person", "colour": "#4363d8", "hotkey": 2},
    ],
    "min_size": 2,
    "allow_empty": True,
}


def box(label: str, x: int = 20) -> dict:
    return {"boxes": [{"label": label, "x": x, "y": 20, "w": 60, "h": 40}]}


@pytest.fixture
def shop():
    ana, ben, maria = make_user("ana"), make_user("ben"), make_user("maria")
    project = make_project(
        name="Street",
        schema=SCHEMA,
        quality={"overlap": 2, "review_policy": "none", "agreement_threshold": 0.0},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )
    tasks = [
        task_create_with_media(
            project=project,
            media_field="image",
            file=png_bytes(200, 150),
            filename=f"{name}.png",
            external_id=name,
            priority=10 - n,
        )
        for n, name in enumerate(["cars-1", "people-2", "blurry-3", "fresh-4"])
    ]
    for user, answers in ((ana, [box("car"), box("person"), "skip"]),
                          (ben, [box("car", 22), box("person", 120), "skip"])):  # fmt: skip
        for answer in answers:
            lease = queue.assignment_claim_next(project=project, contributor=user)
            if answer == "skip":
                queue.assignment_skip(assignment_id=lease.pk, contributor=user, reason="unclear")
            else:
                queue.annotation_submit(
                    assignment_id=lease.pk, contributor=user, result=answer, active_seconds=5
                )
    return project, tasks


def showing(page: Page, **params: str) -> None:
    """Wait until the table of these filters is in: htmx pushed them to the URL (after the
    swap) and no request of the page is still on its way."""
    checks = " && ".join(
        f"(query.get({json.dumps(key)}) || '') === {json.dumps(value)}"
        for key, value in params.items()
    )
    wait_js(
        page,
        f"(() => {{ const query = new URLSearchParams(location.search); return {checks}; }})()"
        " && !document.querySelector('.htmx-request')",
    )


def rows(page: Page) -> list[str]:
    return page.get_by_test_id("task-row").locator("td:nth-child(3)").all_inner_texts()


def test_search_filter_bulk_requeue_and_the_task_page(
    live_server, page: Page, console_errors, shop
):
    project, tasks = shop
    log_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/projects/{project.pk}/tasks/")
    expect(page.get_by_test_id("task-count")).to_have_text("4")
    expect(page.get_by_test_id("skip-figures")).to_contain_text("2 skips (unclear or unreadable 2)")

    # The task everyone skipped is flagged for the manager, not left "Open 0/2".
    page.get_by_test_id("attention-link").click()
    expect(page.get_by_test_id("task-count")).to_have_text("1")
    expect(page.get_by_test_id("task-status")).to_contain_text("Needs attention")
    expect(page.get_by_test_id("task-skips")).to_contain_text("Unclear or unreadable")

    # Each change swaps in a new table; every check waits for the table of *that* filter (the
    # URL htmx pushes after the swap, nothing in flight). Waiting on the count alone passed on
    # the previous table when it had the same count ("1" under "needs attention" before the
    # search for "people" had answered), and the checks that followed read a stale table.
    page.get_by_test_id("filter-status").select_option("")
    showing(page, status="")
    page.get_by_test_id("task-search").fill("people")
    showing(page, q="people")
    expect(page.get_by_test_id("task-count")).to_have_text("1")
    assert rows(page)[0].startswith("people-2")
    page.get_by_test_id("task-search").fill("")
    showing(page, q="")
    expect(page.get_by_test_id("task-count")).to_have_text("4")
    page.get_by_test_id("filter-label").select_option("car")
    showing(page, label="car")
    expect(page.get_by_test_id("task-count")).to_have_text("1")
    assert rows(page)[0].startswith("cars-1")
    page.get_by_test_id("filter-label").select_option("")
    showing(page, label="")
    page.get_by_test_id("filter-skipped").select_option("yes")
    showing(page, skipped="yes")
    expect(page.get_by_test_id("task-count")).to_have_text("1")
    assert rows(page)[0].startswith("blurry-3")
    page.get_by_test_id("filter-skipped").select_option("")
    showing(page, skipped="")
    page.get_by_test_id("filter-sort").select_option("priority")
    # The sorted table replaces the old one: a tick made in the old table would be swept away.
    showing(page, sort="priority")
    expect(page.get_by_test_id("task-row").first).to_contain_text("fresh-4")

    # Re-queue the skipped task and raise another one's priority, ticked in the table.
    page.locator(f'input[name="task"][value="{tasks[2].pk}"]').check()
    expect(page.get_by_test_id("selected-count")).to_have_text("1 ticked")
    page.get_by_test_id("bulk-action").select_option("requeue")
    page.get_by_test_id("bulk-apply").click()
    expect(page.get_by_text("1 task back in the queue.")).to_be_visible()
    assert not Assignment.objects.filter(task=tasks[2], status=AssignmentStatus.SKIPPED).exists()
    expect(page.get_by_test_id("attention-link")).to_have_count(0)

    # Delete needs its tick.
    page.locator(f'input[name="task"][value="{tasks[3].pk}"]').check()
    page.get_by_test_id("bulk-action").select_option("delete")
    page.get_by_test_id("bulk-apply").click()
    expect(page.get_by_text("tick the box that confirms it")).to_be_visible()
    page.locator(f'input[name="task"][value="{tasks[3].pk}"]').check()
    page.get_by_test_id("bulk-action").select_option("delete")
    page.get_by_test_id("bulk-confirm-delete").check()
    page.get_by_test_id("bulk-apply").click()
    expect(page.get_by_text("1 task deleted.")).to_be_visible()
    assert not Task.objects.filter(pk=tasks[3].pk).exists()

    # One task's page: the image with each answer drawn, the outcome, history; use ben's as gold.
    page.locator(f'[data-task="{tasks[1].pk}"] [data-testid=task-link]').click()
    expect(page.get_by_test_id("task-answer")).to_have_count(2)
    expect(page.get_by_test_id("answer-boxes")).to_have_count(3)  # the outcome and two answers
    expect(page.get_by_test_id("task-history")).to_contain_text("Answered")
    page.get_by_test_id("task-answer").nth(1).get_by_test_id("use-as-gold").click()
    expect(page.get_by_text("1 task marked gold.")).to_be_visible()
    expect(page.get_by_test_id("task-gold")).to_be_visible()
    gold = Task.objects.get(pk=tasks[1].pk)
    assert gold.is_gold
    assert gold.gold["boxes"][0]["x"] == 120
    assert AuditEvent.objects.filter(action=AuditAction.TASKS_GOLD_MARKED).exists()
    assert console_errors == []


def test_a_gold_answer_typed_in_the_editor(live_server, page: Page, console_errors, shop):
    project, tasks = shop
    fresh = tasks[3]
    log_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/projects/{project.pk}/tasks/{fresh.pk}/")
    expect(page.get_by_test_id("task-state")).to_contain_text("Open")
    page.get_by_test_id("type-gold").click()
    mounted(page)
    page.wait_for_selector("[data-editor-root] .bbox-editor")
    page.get_by_test_id("bbox-stage").focus()
    page.keyboard.press("2")
    drag(page, to_page(page, 30, 30), to_page(page, 130, 110))
    page.get_by_test_id("save-gold").click()
    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/tasks/{fresh.pk}/")
    expect(page.get_by_text("1 task marked gold.")).to_be_visible()
    fresh.refresh_from_db()
    assert fresh.is_gold
    (drawn,) = fresh.gold["boxes"]
    assert drawn["label"] == "person"
    assert abs(drawn["x"] - 30) <= 1
    assert abs(drawn["w"] - 100) <= 1
    expect(page.get_by_test_id("task-state")).to_contain_text("Gold check")
    assert fresh.status == TaskStatus.OPEN
    assert json.dumps(fresh.gold)
    assert console_errors == []


def test_reimporting_to_add_gold_keeps_the_image_and_its_size(
    live_server, page: Page, console_errors, tmp_path
):
    maria = make_user("maria")
    project = make_project(name="Crops", schema=SCHEMA, members={maria: Role.MANAGER})
    image = tmp_path / "crop-7.png"
    image.write_bytes(png_bytes(200, 150).read())
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps([{"external_id": "crop-7.png", "gold": box("car", 100)}]))

    log_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/projects/{project.pk}/tasks/")
    for upload, outcome in ((image, "1 created, 0 updated"), (gold, "0 created, 1 updated")):
        page.get_by_label("Files").set_input_files(str(upload))
        page.get_by_role("button", name="Import").click()
        expect(page.locator("#import").get_by_test_id("import-status")).to_contain_text(outcome)
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    task = Task.objects.get(project=project)
    assert task.is_gold
    assert (task.data["width"], task.data["height"]) == (200, 150)
    assert task.data["image"] == f"/tasks/{task.pk}/media/"

    page.get_by_test_id("task-link").click()
    expect(page.get_by_test_id("task-state")).to_contain_text("Gold check")
    drawn = page.get_by_test_id("task-gold").get_by_test_id("answer-boxes")
    expect(drawn).to_have_attribute("viewBox", "0 0 200 150")  # the size it knew
    expect(drawn.locator("rect")).to_have_count(1)
    assert console_errors == []


def test_counts_agree_from_home_to_the_task_list(live_server, page: Page, console_errors, shop):
    project, _tasks = shop
    Task.objects.create(
        project=project,
        data={"image": "https://img.example/g.jpg", "width": 200, "height": 150},
        is_gold=True,
        gold=box("car"),
    )
    cleo = make_user("cleo")
    project.members.create(user=cleo, role=Role.CONTRIBUTOR)

    # What the queue could give: the two real tasks with a free slot, and the gold check.
    log_in(page, live_server, "cleo")
    expect(page.get_by_test_id("waiting-for-you")).to_have_text("3 tasks waiting for you")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("waiting-for-you")).to_contain_text("3 tasks waiting for you")
    page.context.clear_cookies()
    log_in(page, live_server, "ana")  # ana skipped one of those two: one real and the gold
    expect(page.get_by_test_id("waiting-for-you")).to_have_text("2 tasks waiting for you")

    page.context.clear_cookies()
    log_in(page, live_server, "maria")
    card = page.get_by_test_id("manage-figures")
    expect(card).to_contain_text("4 tasks · 2 accepted · 0 in review · 1 gold (apart)")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("task-figures")).to_have_text(
        "4 tasks, 2 waiting for answers · 1 gold (counted apart)."
    )
    page.goto(f"{live_server.url}/projects/{project.pk}/tasks/")
    figures = page.get_by_test_id("task-figures")
    expect(figures).to_contain_text("4 tasks · Open 2 · Accepted 2 · 1 gold (counted apart)")
    page.goto(f"{live_server.url}/projects/{project.pk}/quality/")
    progress = page.get_by_test_id("progress")
    expect(progress).to_contain_text("4 tasks")
    expect(progress).to_contain_text("In review 0")  # words, not codes
    expect(progress).not_to_contain_text("in_review")
    assert console_errors == []
