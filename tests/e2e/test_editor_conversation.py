"""The conversation editor in a real Chromium: rate with spans, rewrite, write, compare, and a long
conversation, each checked by the server through the preview's check form."""

import json
import time

import pytest
from playwright.sync_api import Page, expect

from annotation.services import task_create
from labelhub.models import Role
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<script>document.title='owned'</script><img src=x onerror=alert(1)>"
RUBRIC = [
    {"name": "accuracy", "scale": 5, "per": "turn",
     "labels": ["wrong", "mostly wrong", "partly right", "mostly right", "correct"]},
    {"name": "helpfulness", "scale": 3, "per": "turn", "labels": []},
    {"name": "overall", "scale": 7, "per": "conversation", "labels": []},
]  # fmt: skip
ERRORS = [
    {"name": "factual error", "severity": "major"},
    {"name": "code bug", "severity": "critical"},
]
REPLY = "The answer is **5**, and in Python:\n\n```python\nprint(2 + 2)  # 5\n```\n\nDone."


@pytest.fixture
def manager():
    return make_user("maria")


def conversation_task(manager, *, schema: dict, data: dict, predictions=None):
    full = {"modes": ["rate"], "criteria": RUBRIC, "error_types": ERRORS, "write": "reply",
            "rationale": "optional", **schema}  # fmt: skip
    project = make_project(kind="conversation", schema=full, members={manager: Role.MANAGER})
    return task_create(project=project, data=data, predictions=predictions)


def shown_result(page: Page) -> dict:
    return json.loads(page.get_by_test_id("result-json").inner_text())


def select_text(page: Page, turn: int, text: str) -> None:
    """Select the first occurrence of ``text`` in the rendered turn, as a mouse drag would."""
    page.evaluate(
        """([turn, text]) => {
          const root = document.querySelector(`.chat-turn[data-index="${turn}"] [data-content]`);
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(text);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + text.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            return;
          }
          throw new Error("text not found: " + text);
        }""",
        [turn, text],
    )


def server_accepts(page: Page) -> None:
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts")


def test_rate_turns_by_keys_and_mark_spans_on_the_rendered_markdown(
    open_preview, manager, console_errors
):
    data = {
        "messages": [
            {"role": "system", "content": "Be exact."},
            {"role": "user", "content": f"What is 2 + 2? {HOSTILE}"},
            {"role": "assistant", "content": REPLY, "model": "m-1"},
            {"role": "user", "content": "Sure?"},
            {"role": "assistant", "content": "Yes: 2 + 2 = 4."},
        ]
    }
    page = open_preview(manager, conversation_task(manager, schema={}, data=data))
    expect(page.get_by_test_id("editor-messages")).to_contain_text("Score turn 2")
    # Markdown and code are rendered; HTML from the data is shown as text, never run.
    turn = page.locator('.chat-turn[data-index="2"]')
    expect(turn.locator("strong")).to_have_text("5")
    expect(turn.locator(".codehilite")).to_have_count(1)
    expect(page.locator('.chat-turn[data-index="1"]')).to_contain_text("<script>")
    expect(page.locator(".chat-turn script, .chat-turn img")).to_have_count(0)
    expect(turn.locator(".turn-model")).to_have_text("m-1")

    page.keyboard.press("2")  # accuracy of turn 2, then on to helpfulness
    page.keyboard.press("3")
    expect(turn.locator(".point-words").first).to_have_text("2 — mostly wrong")
    select_text(page, 2, "5")
    page.keyboard.press("m")
    expect(page.get_by_test_id("span-picker")).to_be_visible()
    page.keyboard.press("1")  # factual error
    select_text(page, 2, "# 5")
    page.keyboard.press("m")
    page.keyboard.press("2")  # code bug
    page.keyboard.press("]")
    page.keyboard.press("5")
    page.keyboard.press("ArrowDown")  # already there after 5; stays on the last criterion
    page.keyboard.press("3")
    page.keyboard.press("]")  # the whole conversation
    page.keyboard.press("6")

    result = shown_result(page)
    first, second = result["turns"]
    assert first["index"] == 2
    assert first["scores"] == {"accuracy": 2, "helpfulness": 3}
    assert [(s["type"], REPLY[s["start"] : s["end"]]) for s in first["spans"]] == [
        ("factual error", "5"),
        ("code bug", "# 5"),
    ]
    assert second == {"index": 4, "scores": {"accuracy": 5, "helpfulness": 3}, "spans": []}
    assert result["scores"] == {"overall": 6}
    expect(page.get_by_test_id("span-item")).to_have_count(2)
    page.get_by_label("Note on span 1").fill("2 + 2 is 4")
    assert shown_result(page)["turns"][0]["spans"][0]["note"] == "2 + 2 is 4"
    highlighted = page.evaluate(
        "CSS.highlights.get('conv-major').size + CSS.highlights.get('conv-critical').size"
    )
    assert highlighted >= 2
    server_accepts(page)
    assert page.title() != "owned"
    assert console_errors == []


def test_rewrite_a_turn_with_a_diff_against_the_original(open_preview, manager, console_errors):
    data = {
        "messages": [
            {"role": "user", "content": "Capital of Australia?"},
            {"role": "assistant", "content": "The capital of Australia is Sydney."},
        ]
    }
    task = conversation_task(manager, schema={"modes": ["rewrite"], "rationale": "none"}, data=data)
    page = open_preview(manager, task)
    expect(page.get_by_test_id("editor-messages")).to_contain_text("Rewrite at least one")
    page.keyboard.press("w")
    box = page.get_by_test_id("rewrite-text")
    expect(box).to_be_focused()
    expect(box).to_have_value("The capital of Australia is Sydney.")
    page.keyboard.press("Control+End")
    for _ in range(len("Sydney.")):
        page.keyboard.press("Backspace")
    page.keyboard.type("Canberra.")
    page.keyboard.press("Escape")
    expect(box).not_to_be_focused()
    diff = page.get_by_test_id("rewrite-diff")
    expect(diff.locator("del")).to_have_text("Sydney.")
    expect(diff.locator("ins")).to_have_text("Canberra.")
    assert shown_result(page) == {
        "turns": [
            {
                "index": 1,
                "scores": {},
                "spans": [],
                "rewrite": "The capital of Australia is Canberra.",
            }
        ]
    }
    server_accepts(page)
    assert console_errors == []


def test_write_a_whole_exchange_from_the_instructions(open_preview, manager, console_errors):
    schema = {"modes": ["write"], "write": "conversation", "criteria": [], "error_types": []}
    page = open_preview(manager, conversation_task(manager, schema=schema, data={"messages": []}))
    expect(page.get_by_test_id("write-area")).to_be_visible()
    page.keyboard.press("w")
    page.keyboard.type("How do I reverse a list in Python?")
    page.keyboard.press("Tab")
    page.keyboard.type("Use `items[::-1]` or `items.reverse()`.")
    page.keyboard.press("Alt+n")  # another exchange, the focus on its user turn
    page.keyboard.type("And a string?")
    page.keyboard.press("Tab")
    page.keyboard.type("Slicing works too: `text[::-1]`.")
    page.keyboard.press("Escape")
    written = shown_result(page)["written"]
    assert [m["role"] for m in written] == ["user", "assistant", "user", "assistant"]
    assert written[3]["content"] == "Slicing works too: `text[::-1]`."
    server_accepts(page)
    assert console_errors == []


def test_compare_candidates_rank_and_score_each(open_preview, manager, console_errors):
    schema = {"modes": ["compare"], "criteria": RUBRIC[:1], "error_types": []}
    data = {
        "messages": [{"role": "user", "content": "Name a prime."}],
        "candidates": [
            {"id": "a", "content": "4", "model": "small"},
            {"id": "b", "content": "7"},
            {"id": "c", "content": "2, the only even prime."},
        ],
    }
    page = open_preview(manager, conversation_task(manager, schema=schema, data=data))
    expect(page.get_by_test_id("editor-messages")).to_contain_text("Rank every candidate")
    page.keyboard.press("1")  # candidate a: accuracy 1
    page.keyboard.press("]")
    page.keyboard.press("4")
    page.keyboard.press("]")
    page.keyboard.press("5")
    page.keyboard.press("o")  # c first
    page.keyboard.press("[")
    page.keyboard.press("o")  # then b
    page.keyboard.press("[")
    page.keyboard.press("o")  # then a
    expect(page.get_by_test_id("candidate-order")).to_have_text("Order: c > b > a")
    result = shown_result(page)
    assert result["order"] == ["c", "b", "a"]
    assert [c["scores"] for c in result["candidates"]] == [
        {"accuracy": 1},
        {"accuracy": 4},
        {"accuracy": 5},
    ]
    server_accepts(page)
    page.keyboard.press("x")
    assert shown_result(page)["order"] == []
    assert console_errors == []


def test_a_long_conversation_stays_responsive(open_preview, manager, console_errors):
    paragraph = "The quick brown fox jumps over the lazy dog, **twice**. " * 12
    messages = []
    for i in range(30):
        messages.append({"role": "user", "content": f"Question {i}: tell me more."})
        messages.append({"role": "assistant", "content": f"Answer {i}. {paragraph}"})
    assert len(messages) == 60
    assert sum(len(m["content"]) for m in messages) > 20_000
    task = conversation_task(manager, schema={"criteria": RUBRIC[:2]}, data={"messages": messages})
    started = time.monotonic()
    page = open_preview(manager, task)
    assert time.monotonic() - started < 10
    expect(page.get_by_test_id("turn-panel")).to_have_count(30)
    # 30 turns × 2 scores, all by keys; each key answered (result shown) before the next.
    started = time.monotonic()
    for _ in range(30):
        page.keyboard.press("4")
        page.keyboard.press("2")
        page.keyboard.press("]")
    per_key = (time.monotonic() - started) / 90
    result = shown_result(page)
    assert len(result["turns"]) == 30
    assert all(t["scores"] == {"accuracy": 4, "helpfulness": 2} for t in result["turns"])
    timing = page.evaluate(
        """() => {
          const t0 = performance.now();
          const key = { key: "[", code: "BracketLeft", bubbles: true };
          for (let i = 0; i < 20; i++) document.dispatchEvent(new KeyboardEvent("keydown", key));
          return (performance.now() - t0) / 20;
        }"""
    )
    assert timing < 30, f"moving between turns takes {timing:.1f} ms"
    assert per_key < 0.25, f"{per_key * 1000:.0f} ms per key"
    select_text(page, 59, "twice")
    page.keyboard.press("m")
    page.keyboard.press("1")
    spans = shown_result(page)["turns"][-1]["spans"]
    content = messages[59]["content"]
    assert [content[s["start"] : s["end"]] for s in spans] == ["twice"]
    server_accepts(page)
    assert console_errors == []


def test_a_contributor_rates_and_rewrites_on_the_work_screen_and_submits(
    live_server, page: Page, console_errors
):
    from annotation.models import Annotation
    from tests.e2e.test_work_flows import start, submit_and_time

    ana = make_user("ana")
    schema = {"modes": ["rate", "rewrite"], "criteria": RUBRIC[:1], "error_types": ERRORS,
              "write": "reply", "rationale": "none"}  # fmt: skip
    project = make_project(kind="conversation", schema=schema, members={ana: Role.CONTRIBUTOR})
    data = {"messages": [{"role": "user", "content": "2 + 2?"},
                         {"role": "assistant", "content": "It is **5**."}]}  # fmt: skip
    first, second = (task_create(project=project, data=data) for _ in range(2))
    start(page, live_server, "ana", project)
    page.keyboard.press("1")
    select_text(page, 1, "5")
    page.keyboard.press("m")
    page.keyboard.press("1")
    page.keyboard.press("w")
    page.keyboard.press("Control+a")
    page.keyboard.type("It is **4**.")
    page.keyboard.press("Escape")
    submit_and_time(page)
    expect(page.get_by_test_id("conversation-editor")).to_be_visible()
    stored = Annotation.objects.get(contributor=ana)
    assert stored.task_id in (first.pk, second.pk)
    assert stored.result["turns"] == [
        {"index": 1, "scores": {"accuracy": 1}, "rewrite": "It is **4**.",
         "spans": [{"start": 8, "end": 9, "type": "factual error"}]}
    ]  # fmt: skip
    # the next task's editor starts clean, its highlights too
    assert page.evaluate("CSS.highlights.get('conv-major').size") == 0
    assert json.loads(page.evaluate("JSON.stringify(window.labelhubEditor.getResult())")) == {
        "turns": []
    }
    assert console_errors == []


def test_a_task_names_its_own_modes(open_preview, manager, console_errors):
    """With write on for the project, a compare task that ends on a user turn asks for a reply
    only when its modes say so: ``data.modes`` narrows the project's modes for this task."""
    schema = {"modes": ["compare", "write"], "criteria": RUBRIC[:1], "error_types": []}
    data = {
        "messages": [{"role": "user", "content": "Name a prime."}],
        "candidates": [{"id": "a", "content": "4"}, {"id": "b", "content": "7"}],
    }
    both = conversation_task(manager, schema=schema, data=data)
    compare_only = task_create(project=both.project, data={**data, "modes": ["compare"]})
    page = open_preview(manager, both)
    expect(page.get_by_test_id("write-area")).to_be_visible()
    page = open_preview(manager, compare_only)
    expect(page.get_by_test_id("write-area")).to_be_hidden()
    page.keyboard.press("1")
    page.keyboard.press("o")
    page.keyboard.press("]")
    page.keyboard.press("5")
    page.keyboard.press("o")
    server_accepts(page)
    assert "written" not in shown_result(page)


def test_w_reaches_the_write_box_from_a_candidate_and_typing_stays_there(
    open_preview, manager, console_errors
):
    schema = {"modes": ["compare", "write"], "criteria": RUBRIC[:1], "error_types": []}
    data = {
        "messages": [{"role": "user", "content": "Name a prime."}],
        "candidates": [{"id": "a", "content": "4"}, {"id": "b", "content": "7"}],
    }
    page = open_preview(manager, conversation_task(manager, schema=schema, data=data))
    page.locator("[data-candidate='b']").click()  # a candidate card has the focus
    page.keyboard.press("w")
    assert page.evaluate("document.activeElement.closest('.conv-write') !== null")
    page.keyboard.type("Really, write seven: rare wins.")  # r, w and o inside: no shortcut fires
    written = page.get_by_test_id("write-area").locator("textarea").first
    expect(written).to_have_value("Really, write seven: rare wins.")
    rationale = page.locator("textarea[data-rationale], .conv-rationale textarea")
    if rationale.count():
        expect(rationale.first).to_have_value("")
    assert shown_result(page).get("order", []) == []


def test_digits_move_on_visibly_and_arrows_after_them_do_what_they_say(
    open_preview, manager, console_errors
):
    rubric = [
        {"name": "accuracy", "scale": 5, "per": "turn"},
        {"name": "helpfulness", "scale": 5, "per": "turn"},
        {"name": "tone", "scale": 5, "per": "turn"},
    ]
    data = {
        "messages": [
            {"role": "user", "content": "Hi?"},
            {"role": "assistant", "content": "Hello."},
        ]
    }
    page = open_preview(manager, conversation_task(manager, schema={"criteria": rubric}, data=data))
    status = page.get_by_test_id("score-status")
    page.keyboard.press("1")
    expect(status).to_have_text("accuracy 1 → Now: helpfulness")
    page.keyboard.press("ArrowDown")  # right after a digit: the next criterion, where it is
    expect(status).to_have_text("Now: helpfulness")
    page.keyboard.press("3")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("1")
    expect(status).to_have_text("tone 1 · Now: tone")
    scores = shown_result(page)["turns"][0]["scores"]
    assert scores == {"accuracy": 1, "helpfulness": 3, "tone": 1}
    # ↑ right after a digit goes back to the criterion just scored.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("4")
    expect(status).to_have_text("accuracy 4 → Now: helpfulness")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("2")
    assert shown_result(page)["turns"][0]["scores"]["accuracy"] == 2
    # `?` says how digits move.
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcut-help")).to_contain_text(
        "Score the criterion and move to the next"
    )
