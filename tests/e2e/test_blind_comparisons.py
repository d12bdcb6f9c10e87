"""Comparisons are blind: contributors never see which model wrote a candidate, on the work
screen or through the API; managers (the preview) and exports keep the names."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from annotation.models import Task
from labelhub.accounts import api_token_issue
from labelhub.models import Role
from tests.e2e.test_review import log_in
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

DATA = {
    "messages": [
        {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "Seven.", "model": "gpt-secret-7"},
        {"role": "user", "content": "Another?"},
    ],
    "candidates": [
        {"id": "a", "content": "Four.", "model": "model-alpha"},
        {"id": "b", "content": "Eleven.", "model": "model-beta"},
    ],
}
SCHEMA = {
    "modes": ["compare"],
    "criteria": [{"name": "accuracy", "scale": 5, "per": "turn"}],
    "error_types": [],
}


def test_contributors_compare_without_model_names(live_server, page: Page, open_preview):
    ana, maria = make_user("ana"), make_user("maria")
    project = make_project(
        kind="conversation",
        schema=SCHEMA,
        members={ana: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )
    Task.objects.create(project=project, data=DATA)
    Task.objects.create(project=project, data=DATA)

    log_in(page, live_server, ana)
    page.goto(live_server.url + reverse("annotation:work", args=[project.pk]))
    start = page.get_by_test_id("start")
    if start.count():
        start.click()
    page.wait_for_selector("[data-editor-root][data-mounted=true]", state="attached")
    expect(page.locator("[data-editor-root]")).to_contain_text("Eleven.")
    html = page.content()
    for name in ("model-alpha", "model-beta", "gpt-secret-7"):
        assert name not in html
    expect(page.locator(".turn-model")).to_have_count(0)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=ana).key}")
    body = client.post(f"/api/v1/projects/{project.pk}/next/").json()
    assert "model" not in str(body["task"]["data"])
    by_id = {c["id"]: c["content"] for c in body["task"]["data"]["candidates"]}
    assert by_id == {"a": "Four.", "b": "Eleven."}
    assert [c["id"] for c in body["task"]["data"]["candidates"]] == body["task"]["shown_order"]

    # The manager's preview keeps the names.
    task = Task.objects.filter(project=project).first()
    preview = open_preview(maria, task)
    expect(preview.locator(".turn-model").first).to_be_visible()
    assert "model-alpha" in preview.content()
    preview.goto("about:blank")  # no request of the page left in flight when the test ends


def test_the_dashboard_reports_position_bias_in_words(live_server, page: Page, console_errors):
    """Ana picks whichever response she is shown first, Ben always picks response a: the
    dashboard says in words that Ana's habit is a bias toward the first shown."""
    ana, ben, maria = make_user("ana"), make_user("ben"), make_user("maria")
    project = make_project(
        kind="ranking",
        quality={"overlap": 2, "review_policy": "none"},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )
    data = {"prompt": "Hi?", "responses": [{"id": "a", "text": "Hey"}, {"id": "b", "text": "Yo"}]}
    for _ in range(14):
        Task.objects.create(project=project, data=data, overlap=2)
    for person, pick in ((ana, None), (ben, "a")):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=person).key}")
        for _ in range(14):
            body = client.post(f"/api/v1/projects/{project.pk}/next/").json()
            result = {"preference": pick or body["task"]["shown_order"][0], "strength": 1}
            submitted = client.post(
                f"/api/v1/assignments/{body['assignment']['id']}/submit/",
                {"result": result},
                format="json",
            )
            assert submitted.status_code == 201

    log_in(page, live_server, maria)
    page.goto(live_server.url + reverse("quality:dashboard", args=[project.pk]))
    report = page.get_by_test_id("position-bias")
    expect(report.get_by_test_id("position-words")).to_contain_text("First shown won")
    expect(report.get_by_test_id("position-words")).to_contain_text("50% expected by chance")
    expect(report.get_by_test_id("position-words")).to_contain_text("Ties: 0% of 28 answers")
    ana_row = report.locator('[data-testid="position-row"][data-user="ana"]')
    expect(ana_row.get_by_test_id("position-verdict")).to_contain_text(
        "First shown won 100% of 14 decided answers"
    )
    expect(ana_row.get_by_test_id("position-verdict")).to_contain_text(
        "bias toward the first shown."
    )
    ben_row = report.locator('[data-testid="position-row"][data-user="ben"]')
    expect(ben_row.get_by_test_id("position-verdict")).to_have_attribute("data-verdict", "no_bias")
    assert console_errors == []
