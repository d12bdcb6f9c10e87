"""The transcription editor in a real Chromium, with a real WAV and a real PNG."""

import json

import pytest
from playwright.sync_api import Page, expect

from annotation.services import task_create_with_media
from labelhub.models import Role
from tests.e2e.conftest import wait_js
from tests.factories import make_project, make_user
from tests.media import png_bytes, wav_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def manager():
    return make_user("maria")


def audio_task(manager, *, segments=False, draft="the quick brown fox"):
    schema = {"media": "audio", "normalisation": ["lowercase"], "segments": segments}
    project = make_project(kind="transcription", schema=schema, members={manager: Role.MANAGER})
    return task_create_with_media(
        project=project, media_field="audio", file=wav_bytes(), filename="tone.wav",
        data={"draft": draft},
    )  # fmt: skip


def shown_result(page: Page) -> dict:
    return json.loads(page.get_by_test_id("result-json").inner_text())


def audio_time(page: Page) -> float:
    return page.evaluate("document.querySelector('.tx-audio').currentTime")


def wait_for_audio(page: Page) -> None:
    wait_js(page, "document.querySelector('.tx-audio').readyState >= 1")
    page.wait_for_selector("[data-editor-root][data-waveform=ready]")


def test_draft_prefills_the_text_and_speed_and_skip_keys_work_while_typing(
    open_preview, manager, console_errors
):
    page = open_preview(manager, audio_task(manager))
    wait_for_audio(page)
    text = page.get_by_test_id("tx-text")
    expect(text).to_have_value("the quick brown fox")
    assert shown_result(page) == {"text": "the quick brown fox"}

    text.click()
    page.keyboard.press("End")
    page.keyboard.type(" jumps")
    for _ in range(2):
        page.keyboard.press("Alt+Period")
    expect(page.get_by_test_id("tx-speed")).to_have_text("1.5×")
    for _ in range(5):
        page.keyboard.press("Alt+Comma")
    expect(page.get_by_test_id("tx-speed")).to_have_text("0.5×")  # stops at 0.5×
    assert page.evaluate("document.querySelector('.tx-audio').playbackRate") == 0.5
    page.keyboard.press("Alt+l")
    page.keyboard.press("Alt+l")
    assert audio_time(page) == pytest.approx(4.0, abs=0.05)
    page.keyboard.press("Alt+j")
    assert audio_time(page) == pytest.approx(2.0, abs=0.05)
    expect(text).to_have_value("the quick brown fox jumps")  # the keys typed nothing
    assert shown_result(page) == {"text": "the quick brown fox jumps"}
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts")
    assert console_errors == []


def test_waveform_is_drawn_and_a_click_seeks(open_preview, manager, console_errors):
    page = open_preview(manager, audio_task(manager))
    wait_for_audio(page)
    waveform = page.get_by_test_id("waveform")
    box = waveform.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    assert audio_time(page) == pytest.approx(4.5, abs=0.1)  # 3/4 of a 6 s clip
    inked = page.evaluate(
        """() => {
            const c = document.querySelector('.tx-waveform');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n / (c.width * c.height);
        }"""
    )
    assert inked > 0.05  # the decoded tone is drawn, not an empty canvas
    assert console_errors == []


def test_segments_are_set_from_the_playhead_by_keys(open_preview, manager, console_errors):
    page = open_preview(manager, audio_task(manager, segments=True, draft=""))
    wait_for_audio(page)
    page.get_by_test_id("tx-text").fill("a tone")
    page.keyboard.press("Alt+l")
    page.keyboard.press("Alt+BracketLeft")
    expect(page.get_by_test_id("editor-messages")).to_contain_text("Segment 1 has no end yet")
    page.keyboard.press("Alt+l")
    page.keyboard.press("Alt+BracketRight")
    page.get_by_label("Text of segment 1").fill("tone")
    result = shown_result(page)
    assert result["text"] == "a tone"
    assert result["segments"] == [{"start": 2.0, "end": 4.0, "text": "tone"}]
    expect(page.get_by_test_id("check-result")).to_contain_text("The server accepts")
    assert console_errors == []


def test_image_transcription_shows_the_image_with_zoom(open_preview, manager, console_errors):
    schema = {"media": "image", "normalisation": [], "segments": False}
    project = make_project(kind="transcription", schema=schema, members={manager: Role.MANAGER})
    task = task_create_with_media(
        project=project, media_field="image", file=png_bytes(800, 200), filename="line.png"
    )
    page = open_preview(manager, task)
    wait_js(page, "document.querySelector('.tx-image').naturalWidth === 800")
    page.wait_for_selector("[data-zoom]")
    fitted = int(page.get_attribute("[data-editor-root]", "data-zoom"))
    page.keyboard.press("Alt+Equal")
    zoomed = int(page.get_attribute("[data-editor-root]", "data-zoom"))
    assert zoomed == round(fitted * 1.25) or abs(zoomed - fitted * 1.25) <= 1
    assert console_errors == []
