"""A contributor cannot tell a gold task from a normal one in anything they can fetch.

Two tasks with the same data, one gold (with an answer) and one not, each given to a contributor
through the real queue. Every response the contributor can get about their task is fetched for
both and compared after the per-task ids and times are blanked: they must be identical.
"""

import json
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Annotation, Task
from labelhub.models import Project, Role
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

DATA = {"image": "https://example.com/street.jpg"}
GOLD = {"boxes": [{"x": 1, "y": 2, "w": 30, "h": 40, "label": "object"}]}
ANSWER = {"boxes": [{"x": 1, "y": 2, "w": 30, "h": 40, "label": "object"}]}


ID_KEYS = {"id", "assignment", "annotation", "project", "task"}
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?")


def blank_json(value):
    """The JSON with row ids and times blanked: what is left must not differ."""
    if isinstance(value, dict):
        return {
            k: "<id>" if k in ID_KEYS and isinstance(v, int) else blank_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [blank_json(v) for v in value]
    if isinstance(value, str):
        return TIME.sub("<time>", value)
    return value


def blank(text: str, ids: list[int], username: str) -> str:
    """The HTML with row ids (in URLs and attributes), tokens, times and the user blanked."""
    text = TIME.sub("<time>", text).replace(f">{username}<", "><user><")
    text = re.sub(r'(nonce="|value="|"X-CSRFToken": ")[\w-]{16,}', r"\1<x>", text)
    for value in ids:
        text = re.sub(rf"(?:(?<=[/=\"'])|(?<=Task )){value}(?=[/\"'<])", "<id>", text)
    # My work links each answer by its own row id, given at submit whatever the task: a row id too.
    return re.sub(r"/my-work/\d+/", "/my-work/<id>/", text)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _set_gold_rate(project: Project, rate: float) -> None:
    Project.objects.filter(pk=project.pk).update(quality={**project.quality, "gold_rate": rate})


@pytest.fixture
def pair():
    """(project, [(user, task, next-response)] for the gold task, then the normal task)."""
    first, second = make_user("first"), make_user("second")
    project = make_project(members={first: Role.CONTRIBUTOR, second: Role.CONTRIBUTOR})
    gold = Task.objects.create(
        project=project, data=DATA, is_gold=True, gold=GOLD, external_id="gold-check-1"
    )
    normal = Task.objects.create(project=project, data=DATA, external_id="street-0001")
    _set_gold_rate(project, 1.0)
    got_gold = api(first).post(f"/api/v1/projects/{project.pk}/next/")
    _set_gold_rate(project, 0.0)
    got_normal = api(second).post(f"/api/v1/projects/{project.pk}/next/")
    assert got_gold.json()["task"]["id"] == gold.pk
    assert got_normal.json()["task"]["id"] == normal.pk
    return project, [(first, gold, got_gold), (second, normal, got_normal)]


def _ids(project, user, task, response) -> list[int]:
    return [task.pk, response.json()["assignment"]["id"], user.pk, project.pk]


def test_the_queue_api_answers_the_same_for_gold_and_normal_tasks(pair):
    _project, runs = pair
    seen = []
    for user, task, got in runs:
        assignment = got.json()["assignment"]["id"]
        client = api(user)
        draft = client.put(
            f"/api/v1/assignments/{assignment}/draft/", {"result": ANSWER}, format="json"
        )
        submit = client.post(
            f"/api/v1/assignments/{assignment}/submit/",
            {"result": ANSWER, "active_seconds": 7},
            format="json",
        )
        again = client.post(
            f"/api/v1/assignments/{assignment}/submit/",
            {"result": ANSWER, "active_seconds": 7},
            format="json",
        )
        detail = client.get(f"/api/v1/tasks/{task.pk}/")
        seen.append(
            [
                (r.status_code, json.dumps(blank_json(r.json()), sort_keys=True))
                for r in (got, draft, submit, again, detail)
            ]
        )
    assert seen[0] == seen[1]
    body = json.dumps([r for run in seen for r in run])
    for hint in ("gold", "is_gold", "gold-check", "street-0001", "external_id", "answer_count"):
        assert hint not in body


def test_the_task_list_api_shows_contributors_the_same_fields_for_both(pair):
    project, runs = pair
    user = runs[0][0]
    listed = api(user).get(f"/api/v1/projects/{project.pk}/tasks/").json()["results"]
    assert len(listed) == 2
    assert [sorted(t) for t in listed] == [["content", "data", "id", "predictions", "project"]] * 2
    # status filters would single out gold tasks (they stay open): contributors get them all
    only_open = api(user).get(f"/api/v1/projects/{project.pk}/tasks/", {"status": "annotated"})
    assert len(only_open.json()["results"]) == 2


def test_the_work_page_partials_and_my_work_look_the_same(client, pair):
    project, runs = pair
    seen = []
    for user, task, got in runs:
        ids = _ids(project, user, task, got)
        client.force_login(user)
        work = client.get(reverse("annotation:work", args=[project.pk]))
        panel = client.post(
            reverse("annotation:work-next", args=[project.pk]), HTTP_HX_REQUEST="true"
        )
        assignment = got.json()["assignment"]["id"]
        submit = client.post(
            reverse("annotation:work-submit", args=[project.pk, assignment]),
            {"result": json.dumps(ANSWER), "active_seconds": "7"},
            HTTP_HX_REQUEST="true",
        )
        my_work = client.get(reverse("quality:my-work", args=[project.pk]))
        pages = [work, panel, submit, my_work]
        seen.append(
            [(r.status_code, blank(r.content.decode(), ids, user.get_username())) for r in pages]
        )
        for r in pages:
            html = r.content.decode().lower()
            assert "gold" not in html, r.request["PATH_INFO"]
    for (status_gold, html_gold), (status_normal, html_normal) in zip(
        seen[0], seen[1], strict=True
    ):
        assert status_gold == status_normal
        assert html_gold == html_normal


def test_my_work_reads_the_same_once_the_real_task_is_accepted(
    client, pair, django_capture_on_commit_callbacks
):
    """A real task ends accepted while a gold task stays open for ever: My work must not show
    the task's status, or over weeks the answers that never turn "Accepted" are the gold."""
    project, runs = pair
    # No review sampling: the real task must end accepted, not (by the dice) in review.
    Project.objects.filter(pk=project.pk).update(
        quality={**Project.objects.get(pk=project.pk).quality, "review_policy": "none"}
    )
    rows = []
    for user, task, got in runs:
        assignment = got.json()["assignment"]["id"]
        with django_capture_on_commit_callbacks(execute=True):  # the quality step runs
            submitted = api(user).post(
                f"/api/v1/assignments/{assignment}/submit/",
                {"result": ANSWER, "active_seconds": 7},
                format="json",
            )
        assert submitted.status_code == 201
        client.force_login(user)
        html = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
        row = re.search(r'<tr data-testid="my-work-row">.*?</tr>', html, re.S).group(0)
        rows.append(blank(row, _ids(project, user, task, got), user.get_username()))
    gold, normal = (task for _, task, _ in runs)
    normal.refresh_from_db()
    gold.refresh_from_db()
    assert (normal.status, gold.status) == ("accepted", "open")  # the difference is real
    assert rows[0] == rows[1]
    assert "Not reviewed" in rows[0]


def test_the_page_of_each_answer_in_my_work_looks_the_same(client, pair):
    """My work links to each answer's page (the answer, the accepted one, the reviewer's words):
    an answer to gold reads like any answer not reviewed yet."""
    project, runs = pair
    seen = []
    for user, task, got in runs:
        assignment = got.json()["assignment"]["id"]
        submitted = api(user).post(
            f"/api/v1/assignments/{assignment}/submit/",
            {"result": ANSWER, "active_seconds": 7},
            format="json",
        )
        assert submitted.status_code == 201
        answer = Annotation.objects.get(assignment_id=assignment)
        client.force_login(user)
        listing = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
        link = reverse("quality:my-work-answer", args=[project.pk, answer.pk])
        assert link in listing
        page = client.get(link)
        assert page.status_code == 200
        assert "gold" not in page.content.decode().lower()
        ids = [*_ids(project, user, task, got), answer.pk]
        html = re.sub(rf"\btask {task.pk}\b", "task <id>", page.content.decode())
        seen.append(blank(html, ids, user.get_username()))
        # Someone else's answer is not theirs to see.
        other = runs[1][0] if user == runs[0][0] else runs[0][0]
        client.force_login(other)
        assert client.get(link).status_code == 404
    assert seen[0] == seen[1]
