"""The review screen draws every answer's boxes over the image, and shows rankings in words."""

import re

import pytest
from django.urls import reverse

from annotation import queue
from annotation.models import TaskStatus
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db

SCHEMA = {
    "labels": [
        {"name": "cat", "colour": "#3cb44b", "hotkey": 1},
        {"name": "dog", "colour": "#4363d8", "hotkey": 2},
    ],
    "min_size": 2,
    "allow_empty": True,
}
REVIEW_ALL = {"overlap": 2, "review_policy": "share", "review_share": 1.0}


def answer(django_capture_on_commit_callbacks, project, user, result) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assignment = queue.assignment_claim_next(project=project, contributor=user)
        queue.annotation_submit(assignment_id=assignment.pk, contributor=user, result=result)


def test_each_answers_boxes_are_drawn_over_the_image_in_their_label_colour(
    client, django_capture_on_commit_callbacks
):
    ana, ben, rui = make_user("ana"), make_user("ben"), make_user("rui")
    project = make_project(
        schema=SCHEMA,
        quality=REVIEW_ALL,
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, rui: Role.REVIEWER},
    )
    task = make_task(
        project=project,
        overlap=2,
        data={"image": "https://example.com/pets.jpg", "width": 400, "height": 300},
    )
    answer(django_capture_on_commit_callbacks, project, ana,
           {"boxes": [{"label": "cat", "x": 10, "y": 20, "w": 100, "h": 80}]})  # fmt: skip
    answer(django_capture_on_commit_callbacks, project, ben,
           {"boxes": [{"label": "dog", "x": 200, "y": 150, "w": 60, "h": 40},
                      {"label": "cat", "x": 12, "y": 22, "w": 98, "h": 78}]})  # fmt: skip
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW

    client.force_login(rui)
    html = client.get(reverse("quality:review", args=[project.pk, task.pk])).content.decode()
    drawings = re.findall(r'<svg class="answer-boxes".*?</svg>', html, flags=re.S)
    assert len(drawings) == 2  # one per answer
    assert 'viewBox="0 0 400 300"' in drawings[0]
    assert 'href="https://example.com/pets.jpg"' in drawings[0]
    rect = re.compile(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"'
        r' fill="none" stroke="(#\w+)"'
    )
    rects = [rect.findall(drawing) for drawing in drawings]
    assert rects[0] == [("10", "20", "100", "80", "#3cb44b")]
    assert sorted(rects[1]) == [
        ("12", "22", "98", "78", "#3cb44b"),
        ("200", "150", "60", "40", "#4363d8"),
    ]


def test_ranking_answers_read_as_an_order(client, django_capture_on_commit_callbacks):
    ana, rui = make_user("ana"), make_user("rui")
    schema = {"mode": "rank", "strength_scale": 3, "criteria": [], "rationale": "none"}
    project = make_project(
        kind="ranking",
        schema=schema,
        quality={"overlap": 1, "review_policy": "share", "review_share": 1.0},
        members={ana: Role.CONTRIBUTOR, rui: Role.REVIEWER},
    )
    responses = [{"id": key, "text": key.upper()} for key in "abc"]
    task = make_task(project=project, data={"prompt": "?", "responses": responses})
    answer(django_capture_on_commit_callbacks, project, ana, {"order": ["c", "a", "b"]})
    client.force_login(rui)
    html = client.get(reverse("quality:review", args=[project.pk, task.pk])).content.decode()
    assert '<p class="answer-summary" data-testid="answer-summary">c &gt; a &gt; b</p>' in html
