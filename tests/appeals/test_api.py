"""The appeals API: shapes, field-by-field errors, who sees and decides what (404 outside)."""

import pytest
from rest_framework.test import APIClient

from appeals.models import Appeal
from labelhub.models import Role
from quality.services import contributor_pause
from tests.appeals.helpers import rejected_answer
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def setup(django_capture_on_commit_callbacks):
    return rejected_answer(django_capture_on_commit_callbacks)


def test_file_read_list_and_reverse(setup, django_capture_on_commit_callbacks):
    project, people, reviewer, manager, task, annotation, _ = setup
    ana = people[0]
    filed = api(ana).post(
        "/api/v1/appeals/", {"annotation": annotation.pk, "comment": "A is right."}, format="json"
    )
    assert filed.status_code == 201, filed.json()
    body = filed.json()
    assert {k: body[k] for k in ("subject", "annotation", "task", "status", "contributor")} == {
        "subject": "rejection",
        "annotation": annotation.pk,
        "task": task.pk,
        "status": "open",
        "contributor": ana.username,
    }
    assert body["review_comment"] == "A misses the question."
    one = api(manager).get(f"/api/v1/appeals/{body['id']}/")
    assert one.status_code == 200
    assert one.json()["comment"] == "A is right."
    listed = api(reviewer).get("/api/v1/appeals/", {"project": project.pk, "status": "open"})
    assert [a["id"] for a in listed.json()["results"]] == [body["id"]]
    assert api(reviewer).get("/api/v1/appeals/", {"status": "upheld"}).json()["results"] == []
    assert api(ana).get("/api/v1/appeals/", {"status": "nope"}).status_code == 400

    own = api(reviewer).post(
        f"/api/v1/appeals/{body['id']}/decision/",
        {"decision": "reverse", "reason": "x"},
        format="json",
    )
    assert (own.status_code, own.json()["code"]) == (403, "not_yours")
    missing = api(manager).post(
        f"/api/v1/appeals/{body['id']}/decision/", {"decision": "reverse"}, format="json"
    )
    assert missing.status_code == 400
    assert "reason" in missing.json()
    with django_capture_on_commit_callbacks(execute=True):
        decided = api(manager).post(
            f"/api/v1/appeals/{body['id']}/decision/",
            {"decision": "reverse", "reason": "The reviewer misread."},
            format="json",
        )
    assert decided.status_code == 200
    assert decided.json()["status"] == "reversed"
    assert decided.json()["decided_by"] == manager.username
    assert decided.json()["decision_reason"] == "The reviewer misread."
    again = api(manager).post(
        f"/api/v1/appeals/{body['id']}/decision/",
        {"decision": "uphold", "reason": "Changed my mind."},
        format="json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "decided")
    assert api(ana).get(f"/api/v1/appeals/{body['id']}/").json()["status"] == "reversed"


def test_errors_are_field_by_field(setup):
    project, people, _reviewer, _manager, _task, annotation, _ = setup
    client = api(people[0])
    assert client.post("/api/v1/appeals/", {"comment": "x"}, format="json").json().keys() == {
        "annotation"
    }
    no_comment = client.post("/api/v1/appeals/", {"annotation": annotation.pk}, format="json")
    assert no_comment.status_code == 400
    assert "comment" in no_comment.json()
    too_long = client.post(
        "/api/v1/appeals/", {"annotation": annotation.pk, "comment": "x" * 2001}, format="json"
    )
    assert "comment" in too_long.json()
    theirs = api(people[0]).post(
        "/api/v1/appeals/", {"annotation": 10**9, "comment": "x"}, format="json"
    )
    assert theirs.json() == {"annotation": ["No answer of yours with this id."]}
    not_paused = client.post(
        "/api/v1/appeals/", {"project": project.pk, "pause": True, "comment": "x"}, format="json"
    )
    assert not_paused.status_code == 400
    assert "pause" in not_paused.json()


def test_pause_appeals_through_the_api(setup):
    project, people, reviewer, manager, *_ = setup
    ana = people[0]
    contributor_pause(project=project, user_id=ana.pk, actor=manager, reason="Too fast.")
    filed = api(ana).post(
        "/api/v1/appeals/",
        {"project": project.pk, "pause": True, "comment": "Careful."},
        format="json",
    )
    assert filed.status_code == 201
    assert (filed.json()["subject"], filed.json()["pause_reason"]) == ("pause", "Too fast.")
    # A reviewer neither sees nor decides pauses; a manager does.
    assert api(reviewer).get(f"/api/v1/appeals/{filed.json()['id']}/").status_code == 404
    decided = api(manager).post(
        f"/api/v1/appeals/{filed.json()['id']}/decision/",
        {"decision": "reverse", "reason": "Fine."},
        format="json",
    )
    assert decided.json()["status"] == "reversed"


def test_outsiders_get_404_and_see_nothing(setup):
    project, people, _reviewer, _manager, _task, annotation, _ = setup
    appeal = (
        api(people[0])
        .post(
            "/api/v1/appeals/",
            {"annotation": annotation.pk, "comment": "A is right."},
            format="json",
        )
        .json()
    )
    outsider, other_manager = make_user(), make_user()
    make_project(members={outsider: Role.CONTRIBUTOR, other_manager: Role.MANAGER})
    for user in (outsider, other_manager):
        assert api(user).get(f"/api/v1/appeals/{appeal['id']}/").status_code == 404
        decided = api(user).post(
            f"/api/v1/appeals/{appeal['id']}/decision/",
            {"decision": "reverse", "reason": "x"},
            format="json",
        )
        assert decided.status_code == 404
        assert api(user).get("/api/v1/appeals/").json()["results"] == []
        paused = api(user).post(
            "/api/v1/appeals/",
            {"project": project.pk, "pause": True, "comment": "x"},
            format="json",
        )
        assert paused.json() == {"project": ["No such project of yours."]}
    assert Appeal.objects.get().status == "open"


def test_the_schema_lists_the_appeal_routes(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/appeals/",
        "/api/v1/appeals/{appeal_id}/",
        "/api/v1/appeals/{appeal_id}/decision/",
    ):
        assert path in schema["paths"], path
