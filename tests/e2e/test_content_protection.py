"""Protection from distressing content in a real Chromium: opt-outs over many claims through
the work screen, and a sensitive image blurred until revealed."""

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Assignment, Task
from annotation.services import task_create, task_create_with_media
from labelhub.content import content_opt_outs_set, project_content_set
from labelhub.models import Role
from tests.e2e.test_work_screen import BOX_SCHEMA, image_ready, log_in, mounted
from tests.factories import make_project, make_user
from tests.media import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

VIOLENCE = 1


def _filter_of(page: Page, selector: str) -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).filter")


def test_opted_out_contributor_never_gets_those_tasks_over_many_claims(
    live_server, page: Page, console_errors
):
    ana = make_user("ana")
    project = make_project(
        schema=BOX_SCHEMA, members={ana: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    tasks = [
        task_create_with_media(
            project=project, media_field="image", file=png_bytes(120, 90), filename=f"i{n}.png"
        )
        for n in range(45)
    ]
    violent = {t.pk for t in tasks[::3]}  # 15 of 45, spread through the queue's order
    Task.objects.filter(pk__in=violent).update(content_flags=VIOLENCE)
    content_opt_outs_set(organization=project.organization, user=ana, names=["violence"])

    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    seen = []
    for _ in range(30):
        mounted(page)
        panel = page.get_by_test_id("task-panel")
        assignment = int(panel.get_attribute("data-assignment"))
        task_id = Assignment.objects.get(pk=assignment).task_id
        assert task_id not in violent
        expect(page.get_by_test_id("sensitive-warning")).to_have_count(0)
        seen.append(task_id)
        page.get_by_test_id("submit").click()  # an empty image is allowed here
        expect(panel).not_to_have_attribute("data-assignment", str(assignment))
    expect(page.get_by_test_id("no-more-tasks")).to_be_visible()
    expect(page.get_by_test_id("opted-out-hint")).to_be_visible()
    assert len(set(seen)) == 30
    assert not Assignment.objects.filter(contributor=ana, task_id__in=violent).exists()


def test_on_a_sensitive_project_the_image_is_blurred_until_revealed(
    live_server, page: Page, console_errors
):
    ben = make_user("ben")
    project = make_project(
        schema=BOX_SCHEMA, members={ben: Role.CONTRIBUTOR}, quality={"overlap": 1}
    )
    project_content_set(project=project, names=["medical-imagery"], actor=ben)
    task_create_with_media(
        project=project, media_field="image", file=png_bytes(), filename="scan.png"
    )
    log_in(page, live_server, "ben")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    image_ready(page)
    expect(page.get_by_test_id("sensitive-warning")).to_contain_text("Medical imagery")
    assert "blur" in _filter_of(page, "svg.bbox-svg")
    page.get_by_test_id("reveal-content").click()
    expect(page.get_by_test_id("reveal-content")).to_have_text("Blur again")
    assert _filter_of(page, "svg.bbox-svg") == "none"
    page.get_by_test_id("reveal-content").click()
    assert "blur" in _filter_of(page, "svg.bbox-svg")


def test_sensitive_text_sits_behind_a_warning(live_server, page: Page, console_errors):
    cy = make_user("cy")
    project = make_project(kind="ranking", members={cy: Role.CONTRIBUTOR})
    task = task_create(
        project=project,
        data={
            "prompt": "Describe it.",
            "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        },
    )
    Task.objects.filter(pk=task.pk).update(content_flags=1 << 3)
    log_in(page, live_server, "cy")
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.get_by_test_id("start").click()
    mounted(page)
    expect(page.get_by_test_id("sensitive-warning")).to_contain_text("Hate")
    prompt = page.get_by_text("Describe it.")
    expect(prompt).to_be_hidden()
    page.get_by_test_id("reveal-content").click()
    expect(prompt).to_be_visible()


def test_the_reviewer_of_a_sensitive_task_sees_it_blurred_until_revealed(
    live_server, page: Page, console_errors
):
    from annotation import queue
    from annotation.models import TaskStatus

    dee, rex = make_user("dee"), make_user("rex")
    project = make_project(
        schema=BOX_SCHEMA,
        members={dee: Role.CONTRIBUTOR, rex: Role.REVIEWER},
        quality={"overlap": 1, "review_policy": "share", "review_share": 1.0},
    )
    project_content_set(project=project, names=["violence"], actor=dee)
    task = task_create_with_media(
        project=project, media_field="image", file=png_bytes(), filename="scene.png"
    )
    lease = queue.assignment_claim_next(project=project, contributor=dee)
    queue.annotation_submit(
        assignment_id=lease.pk,
        contributor=dee,
        result={"boxes": [], "image_width": 64, "image_height": 48},
        active_seconds=10,
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    log_in(page, live_server, "rex")
    page.goto(f"{live_server.url}/projects/{project.pk}/reviews/{task.pk}/")
    mounted(page)
    image_ready(page)
    expect(page.get_by_test_id("sensitive-warning")).to_contain_text("Violence")
    expect(page.get_by_test_id("sensitive-warning")).not_to_contain_text("Skip it")
    assert "blur" in _filter_of(page, "svg.bbox-svg")
    page.get_by_test_id("reveal-content").click()
    expect(page.get_by_test_id("reveal-content")).to_have_text("Blur again")
    assert _filter_of(page, "svg.bbox-svg") == "none"
