"""Live mode in a real Chromium: a contributor talks to an OpenAI-compatible model served on
loopback by the test (a real HTTP server that streams), rates and rewrites its replies, submits;
a failing model says why and keeps nothing."""

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from annotation.models import Annotation, Task
from genai.models import LiveModel
from labelhub.models import Role
from tests.e2e.conftest import wait_js
from tests.e2e.test_work_flows import start
from tests.factories import make_project, make_user
from tests.genai.openai_server import ChatServer

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "sk-live-e2e-41"
SCHEMA = {
    "modes": ["rate", "rewrite"],
    "criteria": [{"name": "accuracy", "scale": 5, "per": "turn", "labels": []}],
    "error_types": [],
    "rationale": "none",
}


@pytest.fixture
def model():
    with (
        ChatServer(delay=0.12, api_key=KEY) as server,
        override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True),
    ):
        yield server


def send(page: Page, text: str) -> None:
    page.keyboard.press("n")
    page.keyboard.type(text)
    page.keyboard.press("Alt+Enter")


def test_talk_to_the_model_rate_and_rewrite_its_replies_and_submit(
    live_server, page: Page, console_errors, model
):
    ana = make_user("ana")
    project = make_project(kind="conversation", schema=SCHEMA, members={ana: Role.CONTRIBUTOR})
    LiveModel.objects.create(
        project=project, base_url=model.base_url, model="acme-chat", api_key=KEY, max_tokens=99
    )
    seed = {"messages": [{"role": "system", "content": "Be brief."}], "live": True,
            "context": "Ask about **capitals**."}  # fmt: skip
    task = Task.objects.create(project=project, data=seed)
    start(page, live_server, "ana", project)
    expect(page.get_by_test_id("conversation-context").locator("strong")).to_have_text("capitals")
    expect(page.get_by_test_id("live-box")).to_contain_text("Your message to acme-chat")
    assert "Talk to the model first" in page.evaluate("window.labelhubEditor.validate()")[0]
    assert KEY not in page.content()

    send(page, "Capital of Australia?")
    # The reply streams in: seen part-way, before it is whole and stored.
    streaming = page.locator(".chat-turn.streaming.role-assistant [data-content]")
    wait_js(page, "document.querySelector('.chat-turn.streaming.role-assistant [data-content]')"
                  ".textContent.split(' ').length >= 3")  # fmt: skip
    partial = streaming.text_content()
    assert partial.startswith("You said:")
    assert not partial.endswith("number 1.")
    reply = page.locator('.chat-turn[data-index="2"]')
    expect(reply).to_contain_text("You said: Capital of Australia?. This is reply number 1.")
    expect(reply.locator(".turn-model")).to_have_text("acme-chat")
    expect(page.get_by_test_id("live-status")).to_contain_text("Reply stored as turn 2")
    page.keyboard.press("2")  # the new reply has the focus: accuracy 2
    page.keyboard.press("w")
    page.keyboard.press("Control+a")
    page.keyboard.type("Canberra.")
    page.keyboard.press("Escape")

    send(page, "And of Canada?")
    expect(page.locator('.chat-turn[data-index="4"]')).to_contain_text("reply number 2")
    page.keyboard.press("5")
    sent = model.requests[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert sent["body"]["stream"] is True
    assert sent["body"]["max_tokens"] == 99
    assert [m["role"] for m in sent["body"]["messages"]] == ["system", "user", "assistant", "user"]

    # A failing model: a clear message, the text kept in the box, nothing stored.
    send(page, "FAIL now")
    expect(page.get_by_test_id("live-status")).to_have_text(
        "The model answered HTTP 500: The model is overloaded."
    )
    expect(page.get_by_test_id("live-input")).to_have_value("FAIL now")
    expect(page.locator(".chat-turn.role-assistant")).to_have_count(2)
    page.keyboard.press("Escape")

    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("conversation-editor")).to_have_count(0)  # the queue is empty now
    stored = Annotation.objects.get(contributor=ana)
    assert stored.task_id == task.pk
    assert stored.result["turns"] == [
        {"index": 2, "scores": {"accuracy": 2}, "spans": [], "rewrite": "Canberra."},
        {"index": 4, "scores": {"accuracy": 5}, "spans": []},
    ]
    task.refresh_from_db()
    assert [(m["role"], m.get("model")) for m in task.data["messages"]] == [
        ("system", None), ("user", None), ("assistant", "acme-chat"), ("user", None),
        ("assistant", "acme-chat"),
    ]  # fmt: skip
    assert console_errors == []
