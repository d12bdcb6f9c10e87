"""A manager archives, unarchives, duplicates and deletes a project from its page."""

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Task
from labelhub.models import AuditAction, AuditEvent, OrganizationMember, Project, Role
from tests.e2e.test_work_screen import log_in
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_archive_duplicate_and_delete_a_project(live_server, page: Page, console_errors):
    # The one refused POST (a wrong name) answers 422, which Chromium logs; nothing else.
    console_errors.expect("status of 422")
    maria, ana = make_user("maria"), make_user("ana")
    project = make_project(
        name="Harbour photos", members={maria: Role.MANAGER, ana: Role.CONTRIBUTOR}
    )
    OrganizationMember.objects.filter(user=maria).update(is_admin=True)
    make_task(project=project)

    log_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("archive").click()
    expect(page.get_by_test_id("archived-badge")).to_be_visible()

    page.context.clear_cookies()
    log_in(page, live_server, "ana")
    expect(page.get_by_text("Harbour photos")).to_have_count(0)  # off a contributor's home
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    expect(page.get_by_test_id("refusal")).to_contain_text("archived")
    expect(page.get_by_test_id("start")).to_have_count(0)

    page.context.clear_cookies()
    log_in(page, live_server, "maria")
    expect(page.get_by_test_id("archived-badge")).to_be_visible()  # managers still see it
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("unarchive").click()
    expect(page.get_by_test_id("archived-badge")).to_have_count(0)

    page.get_by_test_id("duplicate").click()
    copy = Project.objects.get(name="Harbour photos (copy)")
    expect(page).to_have_url(f"{live_server.url}/projects/{copy.pk}/settings/")
    assert not copy.tasks.exists()

    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("delete").click()
    page.get_by_test_id("delete-confirmation").fill("harbour")
    page.get_by_test_id("delete-confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("Type the project's name")
    page.get_by_test_id("delete-confirmation").fill("Harbour photos")
    page.get_by_test_id("delete-confirm").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("“Harbour photos” and all its data are deleted.")).to_be_visible()
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Task.objects.filter(project_id=project.pk).exists()
    kept = AuditEvent.objects.filter(project=None, project_name="Harbour photos")
    assert set(kept.values_list("action", flat=True)) >= {
        AuditAction.PROJECT_ARCHIVED,
        AuditAction.PROJECT_UNARCHIVED,
        AuditAction.PROJECT_DELETED,
    }
    assert console_errors == []
