"""No shortcut acts while the person is typing (static/js/lib/keyboard.js, the one guard every
screen's shortcuts go through): text full of shortcut letters and digits lands where it is typed,
on a compare task and on a ranking task; Escape still leaves the box."""

import json

import pytest
from playwright.sync_api import Page, expect

from annotation.services import task_create
from labelhub.models import Role
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# Every letter and digit some screen binds: a b t x c r w o m n s v f j k 1 2 3 4 5 …
TEXT = "A bit better: rank 1, 2 or 3? Waxing on, Mom: no jokes, fine views 45 ok."


def shown_result(page: Page) -> dict:
    return json.loads(page.get_by_test_id("result-json").inner_text())


@pytest.fixture
def manager():
    return make_user("maria")


def test_typing_a_rationale_on_a_compare_task_fires_no_shortcut(
    open_preview, manager, console_errors
):
    schema = {
        "modes": ["compare"],
        "criteria": [{"name": "accuracy", "scale": 5, "per": "turn", "labels": []}],
        "error_types": [],
        "rationale": "optional",
    }
    project = make_project(kind="conversation", schema=schema, members={manager: Role.MANAGER})
    data = {
        "messages": [{"role": "user", "content": "Name a prime."}],
        "candidates": [{"id": "a", "content": "4"}, {"id": "b", "content": "7"}],
    }
    page = open_preview(manager, task_create(project=project, data=data))
    page.locator("[data-candidate='b']").click()  # a candidate card has the focus
    page.keyboard.press("r")
    box = page.get_by_test_id("rationale")
    expect(box).to_be_focused()
    page.keyboard.type(TEXT)
    expect(box).to_have_value(TEXT)
    result = shown_result(page)
    assert result.get("order", []) == []  # O (rank next) and X never fired
    assert not result.get("candidates") or all(not c.get("scores") for c in result["candidates"])
    page.keyboard.press("Escape")  # a chord that still works in a text box: it leaves it
    expect(box).not_to_be_focused()
    assert console_errors == []


def test_typing_a_rationale_on_a_ranking_task_fires_no_shortcut(
    open_preview, manager, console_errors
):
    schema = {"mode": "pairwise", "strength_scale": 3, "criteria": [], "rationale": "optional"}
    project = make_project(kind="ranking", schema=schema, members={manager: Role.MANAGER})
    data = {"prompt": "Hi?", "responses": [{"id": "x", "text": "Hey"}, {"id": "y", "text": "Yo"}]}
    page = open_preview(manager, task_create(project=project, data=data))
    page.keyboard.press("r")
    box = page.get_by_test_id("rationale")
    expect(box).to_be_focused()
    page.keyboard.type(TEXT)
    expect(box).to_have_value(TEXT)
    assert shown_result(page) == {
        "preference": None,  # A, B and T never fired
        "strength": 1,  # nor the digits
        "criteria": {},
        "rationale": TEXT,
    }
    page.keyboard.press("Escape")
    expect(box).not_to_be_focused()
    page.keyboard.press("b")  # outside the box the shortcut works again
    assert shown_result(page)["preference"] == "y"

    # A contenteditable counts as typing too, and no screen may bind a plain key there.
    page.evaluate(
        """() => {
          const note = document.createElement("div");
          note.contentEditable = "true";
          note.dataset.testid = "scratch";
          document.body.append(note);
          note.focus();
        }"""
    )
    page.keyboard.type("a t 2")
    expect(page.get_by_test_id("scratch")).to_have_text("a t 2")
    assert shown_result(page)["preference"] == "y"
    refused = page.evaluate(
        """async () => {
          const { Shortcuts } = await import("/static/js/lib/keyboard.js");
          const keys = new Shortcuts(document.createElement("div"));
          try { keys.add({ keys: ["q"], description: "q", run() {}, inInputs: true }); }
          catch (error) { return error.message; }
          return "";
        }"""
    )
    assert "needs Escape, Ctrl, Alt or Meta: q" in refused
    assert console_errors == []
