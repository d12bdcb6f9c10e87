"""The rough edges of the managers' and contributors' pages in a real Chromium: the Markdown
preview renders like the saved text, long names wrap instead of overflowing, and a field's length
limit is said and checked, never silently cut."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from labelhub.models import Project, Role
from tests.e2e.test_review import log_in
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

LAYOUT = """(selector) => {
    const p = document.querySelector(selector);
    const line = parseFloat(getComputedStyle(p).lineHeight);
    const strong = p.querySelector('strong').getBoundingClientRect();
    const em = p.querySelector('em').getBoundingClientRect();
    return {display: getComputedStyle(p).display, lines: p.getBoundingClientRect().height / line,
            sameLine: Math.abs(strong.top - em.top) < 2};
}"""


def test_the_instructions_preview_renders_like_the_saved_text(
    page: Page, live_server, console_errors
):
    maria = make_user("maria")
    project = make_project(members={maria: Role.MANAGER})
    log_in(page, live_server, maria)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("projects:settings", args=[project.pk]))
    text = "Draw a **tight** box around *every* person."
    page.locator("#id_instructions").fill(text)
    preview = page.get_by_test_id("instructions-preview")
    expect(preview.locator("strong")).to_have_text("tight")
    shown = page.evaluate(LAYOUT, '[data-testid="instructions-preview"] p')
    # One paragraph, one line: the bold and the italic flow inside it.
    assert shown == {"display": "block", "lines": pytest.approx(1, abs=0.3), "sameLine": True}

    page.locator("#instructions").get_by_role("button", name="Save instructions").click()
    expect(page.locator("#instructions").get_by_role("status")).to_have_text("Saved.")
    page.goto(live_server.url + reverse("projects:detail", args=[project.pk]))
    saved = page.evaluate(LAYOUT, '[data-testid="instructions"] p')
    assert saved["display"] == shown["display"]
    assert saved["sameLine"]
    assert round(saved["lines"]) == round(shown["lines"]) == 1
    assert console_errors == []


def test_long_names_wrap_inside_cards_titles_and_tables(page: Page, live_server, console_errors):
    long_name = "Streetscenes" * 15  # 180 characters, no space to break at
    person = make_user("x" * 60)
    maria = make_user("maria")
    project = make_project(name=long_name, members={maria: Role.MANAGER, person: Role.CONTRIBUTOR})
    log_in(page, live_server, maria)
    page.set_viewport_size({"width": 1024, "height": 800})
    for url in (
        reverse("home"),
        reverse("projects:detail", args=[project.pk]),
        reverse("projects:settings", args=[project.pk]),
        reverse("quality:dashboard", args=[project.pk]),
    ):
        page.goto(live_server.url + url)
        overflow = page.evaluate(
            """() => ({page: document.documentElement.scrollWidth - innerWidth,
                       cards: [...document.querySelectorAll('.card, h1')]
                           .map((e) => e.scrollWidth - e.clientWidth)})"""
        )
        assert overflow["page"] <= 0, (url, overflow)
        assert all(extra <= 1 for extra in overflow["cards"]), (url, overflow)
    assert console_errors == []


def test_a_fields_length_limit_is_said_and_a_longer_value_is_refused_not_cut(
    page: Page, live_server, console_errors
):
    console_errors.expect("status of 422")  # the refused save, on purpose
    maria = make_user("maria")
    project = make_project(name="Street", members={maria: Role.MANAGER})
    log_in(page, live_server, maria)
    page.goto(live_server.url + reverse("projects:settings", args=[project.pk]))
    general = page.locator("#general")
    expect(general).to_contain_text("Up to 200 characters.")
    name = general.get_by_label("Name")
    too_long = "N" * 230
    name.fill(too_long)
    expect(name).to_have_value(too_long)  # the browser does not cut it short
    general.get_by_role("button", name="Save name and kind").click()
    expect(general.locator(".field-error")).to_contain_text(
        "Ensure this value has at most 200 characters (it has 230)."
    )
    expect(general.get_by_label("Name")).to_have_value(too_long)
    assert Project.objects.get(pk=project.pk).name == "Street"
    assert console_errors == []
