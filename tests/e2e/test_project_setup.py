"""A manager in a real Chromium sets up one project of each kind and imports work into it."""

import json

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Task
from labelhub.models import OrganizationMember, Project
from tests.factories import PASSWORD, make_organization, make_user
from tests.media_files import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_text(username)


def create_project(page: Page, name: str, kind_label: str) -> None:
    page.get_by_role("link", name="Projects", exact=True).click()
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label(kind_label).check()
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def set_quality_and_instructions(page: Page, overlap: str, instructions: str, heading: str):
    quality = page.locator("#quality")
    quality.get_by_label("Answers per task (overlap)").fill(overlap)
    quality.get_by_label("Share of gold tasks").fill("0.1")
    quality.get_by_role("button", name="Save quality bars").click()
    expect(quality.get_by_role("status")).to_have_text("Saved.")
    page.get_by_label("Instructions for contributors and reviewers").fill(instructions)
    preview = page.get_by_test_id("instructions-preview")
    expect(preview.get_by_role("heading", name=heading)).to_be_visible()  # live, before saving
    page.get_by_role("button", name="Save instructions").click()
    expect(page.locator("#instructions").get_by_role("status")).to_have_text("Saved.")


def import_files(page: Page, files: list, expected_rows: int) -> None:
    page.get_by_role("link", name="Tasks & import").click()
    panel = page.get_by_test_id("import-details")
    if panel.get_attribute("open") is None:  # folded once the project has tasks
        panel.locator("summary").click()
    page.get_by_label("Files").set_input_files(files)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-status").first).to_contain_text("created")
    expect(page.get_by_test_id("task-row")).to_have_count(expected_rows)


def test_manager_sets_up_each_kind_and_imports_tasks(
    live_server, page: Page, tmp_path, console_errors
):
    org = make_organization("Acme")
    make_user("mia", organization=org)
    OrganizationMember.objects.filter(user__username="mia").update(is_admin=True)
    console_errors.expect("status of 422")  # the refused saves (422) and nothing else
    log_in(page, live_server, "mia")

    # Bounding boxes: two labels with colours and hotkeys, one refused first.
    create_project(page, "Street boxes", "Bounding boxes")
    schema = page.locator("#schema")
    schema.get_by_label("Label 1 name").fill("car")
    schema.get_by_role("button", name="+ Add label").click()
    schema.get_by_label("Label 2 name").fill("person")
    schema.get_by_label("Label 2 hotkey").select_option("1")
    schema.get_by_role("button", name="Save labels").click()
    expect(schema.get_by_text("The hotkey 1 is used by another label.")).to_be_visible()
    schema.get_by_label("Label 2 hotkey").select_option("2")
    schema.get_by_label("Label 2 colour").fill("#00aa00")
    schema.get_by_role("button", name="+ Add label").click()
    schema.get_by_role("button", name="Remove label 3").click()
    expect(schema.get_by_test_id("label-row")).to_have_count(2)
    schema.get_by_role("button", name="Save labels").click()
    expect(schema.get_by_role("status")).to_have_text("Saved.")
    set_quality_and_instructions(page, "3", "# Boxes\nDraw **tight** boxes.", "Boxes")
    image = tmp_path / "street.png"
    image.write_bytes(image_bytes(120, 80))
    listing = tmp_path / "more.json"
    listing.write_text(json.dumps([{"data": {"image": "https://example.com/a.jpg"}}]))
    import_files(page, [str(image)], 1)
    import_files(page, [str(listing)], 2)

    # Ranking: full order, two criteria, rationale required.
    create_project(page, "Chat ranking", "Preference ranking")
    schema = page.locator("#schema")
    schema.get_by_label("Order all responses from best to worst").check()
    schema.get_by_role("button", name="+ Add criterion").click()
    schema.get_by_label("Criterion 1", exact=True).fill("helpfulness")
    schema.get_by_role("button", name="+ Add criterion").click()
    schema.get_by_label("Criterion 2", exact=True).fill("honesty")
    schema.get_by_label("Written rationale").select_option("required")
    schema.get_by_role("button", name="Save ranking setup").click()
    expect(schema.get_by_role("status")).to_have_text("Saved.")
    set_quality_and_instructions(page, "2", "## Rank\nBest first.", "Rank")
    responses = [{"id": "a", "text": "Yes"}, {"id": "b", "text": "No"}, {"id": "c", "text": "?"}]
    lines = tmp_path / "chats.jsonl"
    lines.write_text(
        "\n".join(
            json.dumps(
                {"data": {"prompt": f"Q{i}", "responses": responses}, "external_id": f"q{i}"}
            )
            for i in range(3)
        )
    )
    import_files(page, [str(lines)], 3)

    # Transcription: rules and segments.
    create_project(page, "Voice clips", "Transcription")
    schema = page.locator("#schema")
    schema.get_by_label("Strip punctuation").uncheck()
    schema.get_by_label("Time segments").check()
    schema.get_by_role("button", name="Save rules").click()
    expect(schema.get_by_role("status")).to_have_text("Saved.")
    set_quality_and_instructions(page, "1", "# Clips\nWrite what you hear.", "Clips")
    table = tmp_path / "clips.csv"
    table.write_text("external_id,audio,draft\nc1,https://x/1.flac,hello\nc2,https://x/2.flac,\n")
    import_files(page, [str(table)], 2)

    boxes, chats, clips = (
        Project.objects.get(name=name) for name in ("Street boxes", "Chat ranking", "Voice clips")
    )
    assert [label["name"] for label in boxes.schema["labels"]] == ["car", "person"]
    assert boxes.schema["labels"][1] == {
        "name": "person",
        "colour": "#00aa00",
        "color": "#00aa00",
        "hotkey": 2,
    }
    assert boxes.quality["overlap"] == 3
    assert chats.schema == {
        "mode": "rank",
        "strength_scale": 3,
        "criteria": ["helpfulness", "honesty"],
        "rationale": "required",
    }
    assert clips.schema == {
        "media": "audio",
        "normalisation": ["collapse_whitespace", "lowercase"],
        "segments": True,
    }
    assert clips.instructions.startswith("# Clips")
    assert Task.objects.filter(project=boxes, overlap=3).count() == 2
    assert Task.objects.filter(project=chats).count() == 3
    # The refused labels answered 422 on purpose (the browser logs that); nothing else went wrong:
    # no CSP violation, no script error.
    assert console_errors == []
