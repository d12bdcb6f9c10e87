"""A task kind is one module: settings, exports, review and the dashboard ask the kind, never
switch on its name. A kind from outside (``tests/kinds/plugin_kind.py``) is installed by
settings alone and every screen around it works."""

import json

import krippendorff
import numpy as np
import pytest
from django.test import override_settings
from django.urls import reverse

import kinds
from labelhub.models import Role
from quality.models import AnnotationReview, AnswerJudgement, Review
from quality.selectors import project_alpha, review_item
from tests.exports.helpers import answer, api, body, settle
from tests.factories import make_project, make_user
from tests.kinds import plugin_kind

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def plugin_kinds():
    with override_settings(LABELHUB_TASK_KINDS=plugin_kind.plugin_kinds()):
        kinds.registry.cache_clear()
        yield
    kinds.registry.cache_clear()


@pytest.fixture
def people():
    return {name: make_user(name) for name in ("maria", "rui", "ana", "ben")}


def grade_project(people, kind="grade"):
    members = {
        people["maria"]: Role.MANAGER,
        people["rui"]: Role.REVIEWER,
        people["ana"]: Role.CONTRIBUTOR,
        people["ben"]: Role.CONTRIBUTOR,
    }
    return make_project(kind=kind, members=members)


def test_a_kind_without_a_builder_is_edited_as_json_and_never_a_500(client, people):
    project = grade_project(people, kind="exact")
    client.force_login(people["maria"])
    page = client.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert 'data-testid="json-only"' in page
    assert '<h2 id="schema-heading">Schema</h2>' in page
    url = reverse("projects:settings-schema", args=[project.pk])
    # The form's default button (Enter) and a stray builder button both save the JSON.
    for action in ("save", "add-label"):
        schema = {"labels": ["cat", "dog", action]}
        posted = {"action": action, "schema_json": json.dumps(schema)}
        response = client.post(url, posted, **HTMX)
        assert response.status_code == 200, action
        project.refresh_from_db()
        assert project.schema == schema


def test_a_project_whose_kind_is_no_longer_installed_still_opens_its_settings(client, people):
    project = grade_project(people)
    client.force_login(people["maria"])
    with override_settings(LABELHUB_TASK_KINDS=kinds.installed_paths()):
        kinds.registry.cache_clear()
        response = client.get(reverse("projects:settings", args=[project.pk]))
        assert response.status_code == 200
        assert "The task kind &#x27;grade&#x27; is not installed here." in response.content.decode()
        export = api(people["maria"]).get(f"/api/v1/projects/{project.pk}/export/?format=votes")
        assert export.status_code == 400
        assert export.json()["formats"] == ["audit", "contributors"]


def test_the_kinds_own_export_format_gets_every_counted_answer(client, people):
    project = grade_project(people)
    task = project.tasks.create(data={}, overlap=2)
    kept = answer(task, people["ana"], {"label": "cat"})
    rejected = answer(task, people["ben"], {"label": "dog"})
    review = Review.objects.create(
        project=project, task=task, reviewer=people["rui"], verdict="reject"
    )
    AnnotationReview.objects.create(
        review=review, annotation=rejected, judgement=AnswerJudgement.REJECTED
    )
    settle(task, {"label": "cat"})
    response = api(people["maria"]).get(f"/api/v1/projects/{project.pk}/export/?format=votes")
    assert response.status_code == 200
    [row] = [json.loads(line) for line in body(response).splitlines()]
    assert row["label"] == "cat"
    assert row["labels"] == ["cat", "dog"]
    assert list(row["answers"].values()) == ["cat"]  # the rejected answer is left out
    [pseudonym] = row["answers"]
    assert pseudonym.startswith("c_")
    assert "ana" not in pseudonym
    assert kept.contributor_id == people["ana"].pk

    client.force_login(people["maria"])
    page = client.get(reverse("exports:export", args=[project.pk])).content.decode()
    assert 'value="votes"' in page
    assert "Votes (JSONL)" in page
    assert 'name="style"' not in page  # the DPO style belongs to the formats that read it


def test_the_review_screen_shows_answers_as_the_kind_says(people):
    project = grade_project(people)
    task = project.tasks.create(data={}, overlap=2)
    answer(task, people["ana"], {"label": "cat"})
    answer(task, people["ben"], {"label": "dog"})
    settle(task, {"label": "cat"}, accepted=False)
    item = review_item(project=project, task_id=task.pk)
    assert [a.summary for a in item.answers] == ["label cat", "label dog"]
    assert [a.view for a in item.answers] == [{"n": 0}, {"n": 1}]
    assert item.view == {"count": 2}
    assert item.answer_template == "transcription/review.html"


def test_the_dashboard_alpha_comes_from_the_kinds_questions_at_their_level(people):
    project = grade_project(people)
    grades = [(1, 1), (2, 3), (3, 3), (1, 2)]
    for first, second in grades:
        task = project.tasks.create(data={}, overlap=2)
        answer(task, people["ana"], {"label": "cat", "grade": first})
        answer(task, people["ben"], {"label": "cat", "grade": second})
        settle(task, {"label": "cat"}).__class__.objects.filter(task=task).update(answers_used=2)
    [figure] = project_alpha(project=project)
    expected = krippendorff.alpha(
        reliability_data=np.array(grades, dtype=float).T, level_of_measurement="ordinal"
    )
    assert figure.name == "Grade"
    assert figure.tasks == 4
    assert figure.alpha == pytest.approx(expected)
