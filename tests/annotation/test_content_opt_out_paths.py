"""Content opt-outs hold on every path that shows a task's content (issue #24, item 4).

Before: the work screen's prefetch named (and the browser downloaded) the media of an opted-out
task, the review queue handed reviewers tasks of categories they opted out of, and the task API
gave an opted-out contributor the task's data. Then the media by id (``/tasks/<id>/media/`` and
its thumbnail), the reviewer's task preview, appeals and sandbox audits still showed them.
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from annotation import queue
from annotation.models import Task
from annotation.selectors import media_to_prefetch
from appeals.selectors import appeals_open_count
from appeals.services import appeal_file_rejection
from labelhub.accounts import api_token_create
from labelhub.content import content_opt_outs_set
from quality import selectors
from tests.appeals.helpers import rejected_answer
from tests.factories import make_project, make_user
from tests.media import png_bytes
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db

VIOLENCE = 1
ALWAYS = {"review_policy": "share", "review_share": 1.0}


def _opt_out(project, user):
    content_opt_outs_set(organization=project.organization, user=user, names=["violence"])


def test_the_work_screen_never_prefetches_media_of_an_opted_out_task():
    ana = make_user("ana")
    project = make_project(kind="bbox", members={ana: "contributor"})
    first = Task.objects.create(project=project, data={"image": "https://img.example/1.jpg"})
    violent = Task.objects.create(
        project=project, data={"image": "https://img.example/violent.jpg"}, content_flags=VIOLENCE
    )
    Task.objects.create(project=project, data={"image": "https://img.example/3.jpg"})
    assert (
        media_to_prefetch(project=project, contributor=ana, current=first)
        == (violent.data["image"])
    )
    _opt_out(project, ana)
    assert media_to_prefetch(project=project, contributor=ana, current=first) == (
        "https://img.example/3.jpg"
    )
    project.content_flags = VIOLENCE  # the whole project: nothing to warm
    project.save()
    assert media_to_prefetch(project=project, contributor=ana, current=first) == ""


def test_a_reviewer_is_not_handed_tasks_of_a_category_they_opted_out_of(
    client, django_capture_on_commit_callbacks
):
    project, people, reviewer, _manager = make_quality_project(contributors=2, quality=ALWAYS)
    plain, violent = make_ranking_tasks(project, 2)
    Task.objects.filter(pk=violent.pk).update(content_flags=VIOLENCE)
    for _ in range(2):
        answer_next(
            django_capture_on_commit_callbacks, project=project, user=people[0], preference="a"
        )
    assert {t.pk for t in selectors.review_queue(project=project, reviewer=reviewer)} == {
        plain.pk,
        violent.pk,
    }
    _opt_out(project, reviewer)
    assert [t.pk for t in selectors.review_queue(project=project, reviewer=reviewer)] == [plain.pk]
    client.force_login(reviewer)
    assert client.get(reverse("quality:review", args=[project.pk, violent.pk])).status_code == 404
    assert client.get(reverse("quality:review", args=[project.pk, plain.pk])).status_code == 200
    api = APIClient()
    api.force_authenticate(reviewer)
    answer = api.get(f"/api/v1/projects/{project.pk}/reviews/next/")
    assert answer.status_code == 200
    assert answer.json()["task"]["id"] == plain.pk


def test_the_task_api_gives_an_opted_out_contributor_none_of_that_tasks_data():
    project, (ana, _ben) = _contributors()
    plain = Task.objects.create(project=project, data={"text": "a cat"})
    violent = Task.objects.create(project=project, data={"text": "a fight"}, content_flags=VIOLENCE)
    api = APIClient()
    api.force_authenticate(ana)
    assert api.get(f"/api/v1/tasks/{violent.pk}/").status_code == 200
    _opt_out(project, ana)
    assert api.get(f"/api/v1/tasks/{violent.pk}/").status_code == 404
    assert api.get(f"/api/v1/tasks/{plain.pk}/").status_code == 200
    listed = api.get(f"/api/v1/projects/{project.pk}/tasks/").json()
    assert [row["id"] for row in listed["results"]] == [plain.pk]
    assert "a fight" not in str(listed)


def _contributors():
    people = [make_user("ana"), make_user("ben")]
    project = make_project(kind="exact", members=dict.fromkeys(people, "contributor"))
    return project, people


# Paths that show one task by its id (issue #24 again: the media by id, the reviewer's preview,
# appeals and audits). Managers see everything of their project; a person holding a lease on a
# task keeps it (they opted out after claiming it: theirs to finish or skip).


def _with_media(task, name: str) -> Task:
    task.media.save(f"{name}.png", ContentFile(png_bytes(8, 6).getvalue()))
    task.thumbnail.save(f"{name}-thumb.png", ContentFile(png_bytes(4, 3).getvalue()))
    return task


def test_the_media_and_preview_of_an_opted_out_task_are_not_found_by_id(client):
    ana, ben, rui, maria = (make_user(name) for name in ("ana", "ben", "rui", "maria"))
    members = {ana: "contributor", ben: "contributor", rui: "reviewer", maria: "manager"}
    project = make_project(kind="bbox", members=members)
    violent = Task.objects.create(
        project=project, data={"image": "https://img.example/v.jpg"}, content_flags=VIOLENCE
    )
    _with_media(violent, "violent")
    held = queue.assignment_claim_next(project=project, contributor=ana)
    assert held.task_id == violent.pk  # Ana holds it from before she opted out
    plain = _with_media(
        Task.objects.create(project=project, data={"image": "https://img.example/p.jpg"}), "plain"
    )

    def statuses(person, task):
        client.force_login(person)
        return [
            client.get(reverse("annotation:task-media", args=[task.pk])).status_code,
            client.get(reverse("annotation:task-thumbnail", args=[task.pk])).status_code,
            client.get(reverse("annotation:task-preview", args=[project.pk, task.pk])).status_code,
        ]

    assert statuses(rui, violent) == [200, 200, 200]
    assert statuses(ben, violent)[:2] == [200, 200]
    for person in (ana, ben, rui, maria):
        _opt_out(project, person)
    assert statuses(rui, violent) == [404, 404, 404]
    assert statuses(rui, plain) == [200, 200, 200]
    assert statuses(ben, violent)[:2] == [404, 404]
    assert statuses(ben, plain)[:2] == [200, 200]
    assert statuses(ana, violent)[:2] == [200, 200]  # her lease
    assert statuses(maria, violent) == [200, 200, 200]  # the manager's project
    client.force_login(rui)
    check = client.post(
        reverse("annotation:task-preview-check", args=[project.pk, violent.pk]), {"result": "{}"}
    )
    assert check.status_code == 404
    client.logout()  # exports name media by this URL, for scripts with an API token
    by_token = {"Authorization": f"Token {api_token_create(user=rui).key}"}
    for task, expected in ((violent, 404), (plain, 200)):
        url = reverse("annotation:task-media", args=[task.pk])
        assert client.get(url, headers=by_token).status_code == expected


def test_a_reviewer_is_not_shown_appeals_of_tasks_they_opted_out_of(
    client, django_capture_on_commit_callbacks
):
    project, people, reviewer, manager, task, annotation, _ = rejected_answer(
        django_capture_on_commit_callbacks
    )
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="A!")
    Task.objects.filter(pk=task.pk).update(content_flags=VIOLENCE)
    page_url = reverse("appeals:appeal", args=[project.pk, appeal.pk])
    queue_url = reverse("appeals:queue", args=[project.pk])
    client.force_login(reviewer)
    assert client.get(page_url).status_code == 200
    assert client.get(queue_url).content.decode().count('data-testid="appeal-row"') == 1
    _opt_out(project, reviewer)
    _opt_out(project, manager)
    assert client.get(page_url).status_code == 404
    assert client.get(queue_url).content.decode().count('data-testid="appeal-row"') == 0
    assert appeals_open_count(project=project, reviewer=reviewer) == 0
    decided = client.post(
        reverse("appeals:decide", args=[project.pk, appeal.pk]), {"decision": "uphold"}
    )
    assert decided.status_code == 404
    client.force_login(manager)  # the manager hears every appeal of the project
    assert client.get(page_url).status_code == 200
    assert client.get(queue_url).content.decode().count('data-testid="appeal-row"') == 1
