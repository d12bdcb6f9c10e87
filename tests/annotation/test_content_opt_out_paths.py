"""Content opt-outs hold on every path that shows a task's content (issue #24, item 4).

Before: the work screen's prefetch named (and the browser downloaded) the media of an opted-out
task, the review queue handed reviewers tasks of categories they opted out of, and the task API
gave an opted-out contributor the task's data.
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Task
from annotation.selectors import media_to_prefetch
from labelhub.content import content_opt_outs_set
from quality import selectors
from tests.factories import make_project, make_user
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
