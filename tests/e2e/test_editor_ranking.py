"""The preference-ranking editor in a real Chromium: keys, mouse, criteria, rationale, escaping."""

import json

import pytest
from playwright.sync_api import Page, expect

from annotation.services import task_create
from labelhub.models import Role
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

CODE = "Use slicing:\n\n```python\nitems[::-1]\n```"
HOSTILE = "<script>document.title='owned'</script><img src=x onerror=alert(1)> **bold**"


@pytest.fixture
def manager():
    return make_user("maria")


def ranking_task(manager, *, schema, responses, predictions=None):
    project = make_project(kind="ranking", schema=schema, members={manager: Role.MANAGER})
    data = {
        "prompt": "How do I reverse a list?",
        "responses": [{"id": rid, "text": text} for rid, text in responses],
    }
    return task_create(project=project, data=data, predictions=predictions)


def shown_result(page: Page) -> dict:
    return json.loads(page.get_by_test_id("result-json").inner_text())


def test_pairwise_choice_and_strength_by_keys(open_preview, manager, console_errors):
    schema = {"mode": "pairwise", "strength_scale": 3, "criteria": [], "rationale": "optional"}
    task = ranking_task(manager, schema=schema, responses=[("x", CODE), ("y", HOSTILE)])
    page = open_preview(manager, task)
    expect(page.get_by_test_id("editor-messages")).to_contain_text("Choose the better response")

    page.keyboard.press("b")
    page.keyboard.press("3")
    assert shown_result(page) == {"preference": "y", "strength": 3, "criteria": {}, "rationale": ""}
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts")
    page.keyboard.press("t")
    assert shown_result(page)["preference"] == "tie"
    page.get_by_role("radio", name="A is better").click()
    assert shown_result(page)["preference"] == "x"

    # Model text is rendered as Markdown, with code highlighted and HTML escaped.
    cards = page.get_by_test_id("response-card")
    expect(cards.nth(0).locator(".codehilite")).to_have_count(1)
    expect(cards.nth(1).locator("strong")).to_have_text("bold")
    expect(cards.nth(1)).to_contain_text("<script>document.title='owned'</script>")
    expect(cards.nth(1).locator("script, img")).to_have_count(0)
    assert page.title() != "owned"
    assert console_errors == []


def test_rank_by_keys_and_reorder(open_preview, manager, console_errors):
    schema = {"mode": "rank", "strength_scale": 3, "criteria": [], "rationale": "none"}
    task = ranking_task(manager, schema=schema, responses=[("a", "one"), ("b", "two"), ("c", "3")])
    page = open_preview(manager, task)
    page.keyboard.press("2")
    page.keyboard.press("3")
    expect(page.get_by_test_id("editor-messages")).to_contain_text("2 of 3 ranked")
    page.keyboard.press("1")
    assert shown_result(page) == {"order": ["b", "c", "a"], "criteria": {}}
    page.keyboard.press("Shift+ArrowUp")  # the focused one (a, last ranked) moves up
    assert shown_result(page)["order"] == ["b", "a", "c"]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Backspace")  # unrank b
    assert shown_result(page)["order"] == ["a", "c"]
    expect(page.get_by_test_id("rank-pool")).to_contain_text("B (2)")
    page.keyboard.press("2")
    assert shown_result(page)["order"] == ["a", "c", "b"]
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts")

    # Drag and drop: b to the top.
    items = page.get_by_test_id("rank-order").locator("li")
    items.nth(2).drag_to(items.nth(0))
    assert shown_result(page)["order"] == ["b", "a", "c"]
    assert console_errors == []


def test_required_rationale_and_criteria_block_until_given(open_preview, manager, console_errors):
    schema = {
        "mode": "pairwise",
        "strength_scale": 1,
        "criteria": ["honesty"],
        "rationale": "required",
    }
    prediction = {"preference": "a", "strength": 1}
    task = ranking_task(
        manager, schema=schema, responses=[("a", "yes"), ("b", "no")], predictions=[prediction]
    )
    page = open_preview(manager, task)
    assert shown_result(page)["preference"] == "a"  # the model's prediction is the start
    messages = page.get_by_test_id("editor-messages")
    expect(messages).to_contain_text("Write a rationale")
    expect(messages).to_contain_text("Answer the criterion “honesty”")
    page.get_by_role("button", name="Check on the server").click()
    expect(page.get_by_test_id("check-result")).to_contain_text("This project asks for a rationale")

    page.keyboard.press("c")
    page.keyboard.press("ArrowRight")  # radio group: from A to B
    assert shown_result(page)["criteria"] == {"honesty": "b"}
    page.keyboard.press("r")
    page.keyboard.type("B is honest; A is not.")
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a key again, not typing: the box was left
    result = shown_result(page)
    assert result["rationale"] == "B is honest; A is not."
    assert result["preference"] == "b"
    expect(messages).not_to_contain_text("rationale")
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts")
    assert console_errors == []


def test_criteria_help_says_what_the_keys_do_and_the_help_dialog_gives_descriptions_room(
    open_preview, manager, console_errors
):
    schema = {
        "mode": "pairwise",
        "strength_scale": 1,
        "criteria": ["honesty", "clarity"],
        "rationale": "none",
    }
    task = ranking_task(manager, schema=schema, responses=[("a", "yes"), ("b", "no")])
    page = open_preview(manager, task)
    help_line = page.get_by_test_id("criteria-help")
    expect(help_line).to_contain_text("change the answer")
    expect(help_line).to_contain_text("Tab goes to the next criterion")

    # What the words promise: ↓ changes this criterion's answer, Tab moves on to the next one.
    page.keyboard.press("c")
    page.keyboard.press("ArrowDown")
    assert shown_result(page)["criteria"] == {"honesty": "b"}
    page.keyboard.press("ArrowDown")
    assert shown_result(page)["criteria"] == {"honesty": "tie"}
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    assert shown_result(page)["criteria"] == {"honesty": "tie", "clarity": "b"}

    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcut-help")
    expect(dialog).to_contain_text("Tab goes to the next")
    widths = page.evaluate(
        """() => [...document.querySelectorAll('.shortcut-groups tr')].map((row) => ({
            text: row.cells[1].textContent,
            share: row.cells[1].getBoundingClientRect().width / row.getBoundingClientRect().width,
        }))"""
    )
    squeezed = [row["text"] for row in widths if row["share"] < 0.45]
    assert squeezed == []
    assert console_errors == []
