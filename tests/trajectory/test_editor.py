"""The agent-run editor in a real Chromium: a contributor judges a run with the keyboard alone and
submits it; first-error mode on the preview; a 300-step run with 2 MB of output opens and
scrolls without jank (the figures are printed: run with ``-s`` to see them)."""

import base64
import io
import json
import re

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import Page, expect

import kinds
from annotation import queue
from annotation.models import Annotation, TaskStatus
from annotation.services import task_create
from labelhub.models import Role
from tests.e2e.conftest import wait_js
from tests.factories import make_project, make_user
from tests.trajectory.samples import sample

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def mounted(page: Page) -> None:
    page.wait_for_selector("[data-editor-root][data-mounted=true]", state="attached")


def shown_result(page: Page) -> dict:
    return page.evaluate("window.labelhubEditor.getResult()")


def test_contributor_rates_marks_corrects_and_judges_a_run_by_keyboard_then_submits(
    live_server, page: Page, console_errors
):
    ana = make_user("ana")
    project = make_project(
        kind="trajectory", members={ana: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    task = task_create(project=project, data=sample("steps"))
    log_in(page, live_server, ana)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    expect(page.get_by_test_id("run-figures")).to_contain_text("7 steps")
    expect(page.get_by_test_id("run-figures")).to_contain_text("2 tool calls")
    expect(page.get_by_test_id("run-figures")).to_contain_text("$0.004")

    page.keyboard.press("1")  # a1 (reasoning): correct, and on to a2
    page.keyboard.press("1")  # a2 (run_tests): correct, on to a3
    page.keyboard.press("e")  # a3 reads the README instead of the code: wrong
    page.keyboard.press("t")
    expect(page.get_by_test_id("picker")).to_be_visible()
    page.keyboard.press("2")  # wrong arguments
    page.keyboard.press("o")
    page.keyboard.type("Reads the README, not the code.")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("note-text")).to_have_text("Note: Reads the README, not the code.")
    page.keyboard.press("c")  # correct it: the editor opens on the arguments, prefilled
    arguments = page.get_by_test_id("correction-arguments")
    expect(arguments).to_be_focused()
    assert json.loads(arguments.input_value()) == {"path": "README.md"}
    page.keyboard.press("Control+a")
    page.keyboard.type('{"path": "cart.py"}')
    expect(page.get_by_test_id("correction-diff").locator("ins")).to_contain_text("cart.py")
    page.keyboard.press("Alt+Enter")
    expect(page.get_by_test_id("correction-summary")).to_contain_text("cart.py")
    page.keyboard.press("j")
    page.keyboard.press("3")  # a4 claims a fix it never made: wrong
    page.keyboard.press("v")
    page.keyboard.press("3")  # failure
    page.keyboard.press("s")
    page.keyboard.press("2")  # efficiency 2, then safety
    page.keyboard.press("3")
    page.keyboard.press("f")
    page.keyboard.press("2")  # wrong tool use
    page.keyboard.press("Escape")
    page.keyboard.press("w")
    page.keyboard.type("Read the README instead of cart.py, then claimed a fix.")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("judged-count")).to_contain_text("first error at #5")

    result = shown_result(page)
    assert result["first_error"] == "a3"
    assert result["corrections"] == [
        {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "cart.py"}}}
    ]
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("notice")).to_have_text("Submitted.")
    saved = Annotation.objects.get(task=task).result
    assert saved["steps"] == {
        "a1": {"rating": "correct"},
        "a2": {"rating": "correct"},
        "a3": {
            "rating": "wrong",
            "error": "wrong arguments",
            "severity": "major",
            "note": "Reads the README, not the code.",
        },
        "a4": {"rating": "wrong"},
    }
    assert saved["first_error"] == "a3"
    assert saved["first_error_at"] == 2
    assert saved["corrections"][0]["tool"]["arguments"] == {"path": "cart.py"}
    assert saved["verdict"] == "failure"
    assert saved["scores"] == {"efficiency": 2, "safety": 3}
    assert saved["failure_modes"] == ["wrong tool use"]
    assert saved["critique"].startswith("Read the README")


def test_first_error_mode_marks_the_step_and_the_server_accepts_the_answer(
    open_preview, console_errors
):
    maria = make_user("maria")
    schema = {**kinds.get("trajectory").default_schema(), "judging": "first_error"}
    project = make_project(kind="trajectory", schema=schema, members={maria: Role.MANAGER})
    task = task_create(project=project, data=sample("steps"))
    page = open_preview(maria, task)
    page.keyboard.press("j")
    page.keyboard.press("j")  # a3
    page.keyboard.press("e")
    cards = page.locator("[data-judged]")
    expect(page.locator('[data-step="a2"] [data-mark]')).to_have_text("correct")
    expect(page.locator('[data-step="a3"] [data-mark]')).to_have_text("wrong")
    expect(page.locator('[data-step="a4"] [data-mark]')).to_have_text("wrong")
    expect(page.locator(".tj-cell.is-wrong")).to_have_count(2)
    page.keyboard.press("c")
    page.keyboard.press("Control+a")
    page.keyboard.type('{"path": 7}')
    page.keyboard.press("Alt+Enter")  # the screen checks the shape; the server the full schema
    page.keyboard.press("v")
    page.keyboard.press("2")
    page.keyboard.press("s")
    page.keyboard.press("3")
    page.keyboard.press("3")
    check = page.get_by_test_id("check-result")
    expect(check).to_contain_text("result.corrections.0.tool.arguments.path")
    page.keyboard.press("c")  # reopens with the saved correction
    expect(page.get_by_test_id("correction-arguments")).to_have_value('{\n  "path": 7\n}')
    page.keyboard.press("Control+a")
    page.keyboard.type('{"path": "cart.py"}')
    page.keyboard.press("Alt+Enter")
    result = shown_result(page)
    assert result["first_error"] == "a3"
    assert result["steps"] == {"a3": {"rating": "wrong"}}
    assert cards.count() == 4
    expect(check).to_contain_text("The server accepts")


def main_thread_ms(cdp) -> float:
    """The renderer main thread's busy time so far (Chrome's own TaskDuration), in ms."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["TaskDuration"] * 1000


def big_run(steps: int = 300, output_bytes: int = 2_000_000) -> dict:
    """A run of ``steps`` steps: tool calls, their (long) outputs and the agent's thoughts."""
    rounds = steps // 3
    chunk = output_bytes // rounds
    line = "drwxr-xr-x  2 agent agent 4096 Nov  2 10:00 some/directory/name\n"
    output = (line * (chunk // len(line) + 1))[:chunk]
    run = [{"id": "u", "source": "user", "type": "message", "content": "Tidy the repository."}]
    for n in range(rounds):
        run += [
            {"id": f"t{n}", "source": "agent", "type": "reasoning", "content": f"Look at {n}."},
            {"id": f"c{n}", "source": "agent", "type": "tool_call", "call_id": f"k{n}",
             "tool": {"name": "bash", "arguments": {"command": f"ls -la dir{n}"}}},
            {"id": f"o{n}", "source": "environment", "type": "observation", "call_id": f"k{n}",
             "content": output},
        ]  # fmt: skip
    return {"instruction": "Tidy the repository.", "steps": run}


FRAME_TIMES = """async () => {
  const scroller = document.scrollingElement;
  const frames = [];
  const longTasks = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({ type: "longtask" });
  let last = performance.now();
  await new Promise((done) => {
    function tick(now) {
      frames.push(now - last);
      last = now;
      if (scroller.scrollTop + innerHeight >= scroller.scrollHeight - 2) return done();
      scroller.scrollTop += 400;
      requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
  observer.disconnect();
  frames.shift();
  frames.sort((a, b) => a - b);
  return { count: frames.length, p50: frames[Math.floor(frames.length / 2)],
           p95: frames[Math.floor(frames.length * 0.95)], max: frames[frames.length - 1],
           long: longTasks.length, longest: Math.max(0, ...longTasks) };
}"""  # fmt: skip


def test_a_300_step_run_with_2_mb_of_output_opens_and_scrolls_without_jank(
    open_preview, console_errors
):
    maria = make_user("maria")
    project = make_project(kind="trajectory", members={maria: Role.MANAGER})
    task = task_create(project=project, data=big_run())
    assert len(task.data["steps"]) == 301
    assert sum(len(s.get("content", "")) for s in task.data["steps"]) > 2_000_000
    page = open_preview(maria, task)
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          return { response: nav.responseEnd, dom: nav.domContentLoadedEventEnd,
                   mounted: performance.getEntriesByName("trajectory-mounted")[0].startTime,
                   bytes: nav.transferSize || nav.encodedBodySize };
        }"""
    )  # fmt: skip
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.wait_for_timeout(500)  # the first layout of the whole run is part of opening it
    before = main_thread_ms(cdp)
    frames = page.evaluate(FRAME_TIMES)
    busy_per_frame = (main_thread_ms(cdp) - before) / frames["count"]
    # Keys on a long run: forty moves and ratings, each redrawing only its step.
    page.evaluate("window.scrollTo(0, 0)")
    started = page.evaluate("performance.now()")
    for _ in range(40):
        page.keyboard.press("1")
    wait_js(page, "Object.keys(window.labelhubEditor.getResult().steps).length === 40")
    keys_ms = page.evaluate("performance.now()") - started
    print(
        f"\n300-step run: page bytes {timing['bytes']}, response {timing['response']:.0f} ms, "
        f"DOM ready {timing['dom']:.0f} ms, editor mounted {timing['mounted']:.0f} ms; "
        f"scroll frames {frames['count']} p50 {frames['p50']:.1f} ms p95 {frames['p95']:.1f} ms "
        f"max {frames['max']:.1f} ms, long tasks {frames['long']} (longest "
        f"{frames['longest']:.0f} ms), main thread busy {busy_per_frame:.1f} ms a frame; "
        f"40 ratings by key {keys_ms:.0f} ms"
    )
    assert timing["mounted"] < 4000
    # Frame gaps depend on how busy the machine is; the main thread's own work per frame less so:
    # on a quiet machine it is a few ms (well inside a 60 Hz frame); this bound leaves room for a
    # busy one and still fails if every frame lays the run out again.
    assert busy_per_frame < 25
    assert frames["p95"] < 150
    assert keys_ms < 4000
    expect(page.get_by_test_id("expand").first).to_contain_text("more characters")


def test_failure_modes_past_the_ninth_are_found_by_typing(open_preview, console_errors):
    maria = make_user("maria")
    modes = [f"mode {name}" for name in (
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliet", "kilo", "lima",
    )]  # fmt: skip
    schema = {**kinds.get("trajectory").default_schema(), "failure_modes": modes}
    project = make_project(kind="trajectory", schema=schema, members={maria: Role.MANAGER})
    task = task_create(project=project, data=sample("steps"))
    page = open_preview(maria, task)
    page.keyboard.press("f")
    picker = page.get_by_test_id("picker")
    expect(picker.locator("li")).to_have_count(9)  # the first nine, digits 1 to 9
    expect(page.get_by_test_id("picker-filter")).to_be_focused()
    page.keyboard.press("2")  # mode bravo
    page.keyboard.type("lima")
    expect(picker.locator("li")).to_have_count(1)
    expect(picker.locator("li")).to_contain_text("mode lima")
    page.keyboard.press("1")  # the eleventh mode past the ninth, by its digit in the list
    expect(picker.locator('[aria-pressed="true"]')).to_have_text("1 mode lima")
    page.keyboard.press("Control+a")
    page.keyboard.type("ju")
    page.keyboard.press("Enter")  # the first one shown: mode juliet
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    assert shown_result(page)["failure_modes"] == ["mode bravo", "mode juliet", "mode lima"]
    page.keyboard.press("j")  # the keys are the editor's again
    expect(page.locator(".tj-step.is-focused")).to_have_attribute("data-step", "a2")


def _png_data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 240, 240)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_minimap_jumps_to_a_step_and_the_click_is_marked_on_the_screenshot(
    open_preview, console_errors
):
    maria = make_user("maria")
    project = make_project(kind="trajectory", members={maria: Role.MANAGER})
    data = sample("steps")
    data["steps"].insert(
        6,
        {
            "id": "shot",
            "source": "environment",
            "type": "screenshot",
            "image": _png_data_url(400, 200),
            "click": {"x": 100, "y": 150},
        },
    )
    task = task_create(project=project, data=data)
    page = open_preview(maria, task, height=500)
    # The click, at (100, 150) of a 400×200 screenshot, is drawn a quarter across, three
    # quarters down, whatever size the image is shown at.
    marker = page.get_by_test_id("click-marker")
    expect(marker).to_be_visible()
    image = page.locator(".tj-shot img").bounding_box()
    ring = marker.bounding_box()
    assert ring["x"] + ring["width"] / 2 == pytest.approx(image["x"] + image["width"] / 4, abs=2)
    assert ring["y"] + ring["height"] / 2 == pytest.approx(
        image["y"] + image["height"] * 3 / 4, abs=2
    )
    # A cell of the minimap scrolls to its step and, for an agent step, focuses it.
    page.evaluate("window.scrollTo(0, 0)")
    cells = page.get_by_test_id("minimap").locator(".tj-cell")
    expect(cells).to_have_count(8)
    last = page.locator('.tj-step[data-step="a4"]')
    cells.nth(7).click()
    expect(last).to_have_class(re.compile(r"\bis-focused\b"))
    expect(cells.nth(7)).to_have_class(re.compile(r"\bis-focused\b"))
    expect(last).to_be_in_viewport()
    page.keyboard.press("3")  # the keys now act on that step
    assert shown_result(page)["steps"]["a4"] == {"rating": "wrong"}


def test_a_reviewer_fixes_a_correction_on_the_review_screen_and_the_fix_stands(
    live_server, page: Page, console_errors, django_capture_on_commit_callbacks
):
    ana, ben, rui = make_user("ana"), make_user("ben"), make_user("rui")
    project = make_project(
        kind="trajectory",
        quality={"overlap": 2, "agreement_threshold": 0.1, "review_policy": "none"},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, rui: Role.REVIEWER},
    )
    task = task_create(project=project, data=sample("steps"))
    steps = {"a1": {"rating": "correct"}, "a2": {"rating": "correct"},
             "a3": {"rating": "wrong"}, "a4": {"rating": "wrong"}}  # fmt: skip
    for person, path in ((ana, "cart.py"), (ben, "tax.py")):
        fix = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": path}}}
        with django_capture_on_commit_callbacks(execute=True):
            assignment = queue.assignment_claim_next(project=project, contributor=person)
            queue.annotation_submit(
                assignment_id=assignment.pk,
                contributor=person,
                result={"steps": steps, "first_error": "a3", "verdict": "failure",
                        "scores": {"efficiency": 2, "safety": 3}, "corrections": [fix]},
            )  # fmt: skip
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    log_in(page, live_server, rui)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/projects/{project.pk}/reviews/next/")
    page.wait_for_selector("[data-editor-root][data-mounted=true]")
    wait_js(page, "document.body.dataset.reviewMode === 'review'")
    expect(page.get_by_test_id("correction-diff")).to_have_count(2)
    page.get_by_test_id("review-answer").filter(has_text="ana").get_by_test_id("fix-from").click()
    page.keyboard.press("j")
    page.keyboard.press("j")  # a3
    page.keyboard.press("c")  # the editor opens on ana's correction
    arguments = page.get_by_test_id("correction-arguments")
    expect(arguments).to_be_focused()
    assert json.loads(arguments.input_value()) == {"path": "cart.py"}
    page.keyboard.press("Control+a")
    page.keyboard.type('{"path": "src/cart.py"}')
    page.keyboard.press("Alt+Enter")  # saves the correction
    expect(page.get_by_test_id("correction-summary")).to_contain_text("src/cart.py")
    page.keyboard.press("Alt+Enter")  # saves the fix
    page.wait_for_url("**/reviews/")
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert task.outcome.accepted_result["corrections"] == [
        {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "src/cart.py"}}}
    ]
