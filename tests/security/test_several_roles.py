"""Several roles on one project (a manager who also labels) keep the rules that matter: the
labeling screen and the queue tell a manager no more about gold than any contributor, nobody
reviews their own answers, and a manager's answers are judged like anyone's."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Annotation, ProjectContributor, Task, TaskStatus
from labelhub.models import OrganizationMember, Project, ProjectMember, Role
from tests.factories import make_organization, make_project, make_user
from tests.security.test_gold_secrecy import ANSWER, DATA, GOLD, blank, blank_json

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _both(project: Project, *users) -> None:
    for user in users:
        ProjectMember.objects.create(project=project, user=user, role=Role.CONTRIBUTOR)


def _set(project: Project, **bars) -> None:
    project.refresh_from_db()
    Project.objects.filter(pk=project.pk).update(quality={**project.quality, **bars})


def test_a_manager_adds_themselves_as_contributor_and_finds_the_project_under_both(client):
    organization = make_organization()
    maria = make_user("maria")
    OrganizationMember.objects.create(organization=organization, user=maria, is_admin=True)
    project = make_project(organization=organization, name="Both ways", members={maria: "manager"})
    client.force_login(maria)
    response = client.post(
        reverse("projects:member-add", args=[project.pk]),
        {"username": "maria", "role": "contributor"},
    )
    assert response.status_code == 302
    roles = sorted(ProjectMember.objects.filter(user=maria).values_list("role", flat=True))
    assert roles == ["contributor", "manager"]
    again = client.post(
        reverse("projects:member-add", args=[project.pk]),
        {"username": "maria", "role": "contributor"},
    )
    assert "already a contributor" in again.content.decode()
    home = client.get(reverse("home")).content.decode()
    assert 'id="group-label"' in home
    assert 'id="group-manage"' in home
    assert home.count("Both ways") == 2
    detail = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "you are manager and contributor" in detail
    assert reverse("annotation:work", args=[project.pk]) in detail
    assert 'data-testid="task-figures"' in detail
    body = api(maria).get(f"/api/v1/projects/{project.pk}/").json()
    assert body["roles"] == ["manager", "contributor"]
    assert body["role"] == "manager"
    assert body["quality"] is not None
    listed = api(maria).get("/api/v1/projects/").json()
    assert [p["roles"] for p in listed] == [["manager", "contributor"]]
    # stepping down as contributor leaves the manager
    row = ProjectMember.objects.get(user=maria, role=Role.CONTRIBUTOR)
    client.post(reverse("projects:member-remove", args=[project.pk, row.pk]))
    assert list(ProjectMember.objects.filter(user=maria).values_list("role", flat=True)) == [
        "manager"
    ]


@pytest.fixture
def managers_pair():
    """Two managers of one project who also label; one gets the gold task, one the normal."""
    first, second = make_user("first"), make_user("second")
    project = make_project(members={first: Role.MANAGER, second: Role.MANAGER})
    _both(project, first, second)
    gold = Task.objects.create(
        project=project, data=DATA, is_gold=True, gold=GOLD, external_id="gold-check-1"
    )
    normal = Task.objects.create(project=project, data=DATA, external_id="street-0001")
    _set(project, gold_rate=1.0)
    got_gold = api(first).post(f"/api/v1/projects/{project.pk}/next/")
    _set(project, gold_rate=0.0)
    got_normal = api(second).post(f"/api/v1/projects/{project.pk}/next/")
    assert got_gold.json()["task"]["id"] == gold.pk
    assert got_normal.json()["task"]["id"] == normal.pk
    return project, [(first, gold, got_gold), (second, normal, got_normal)]


def test_a_manager_who_labels_cannot_tell_gold_on_the_queue_or_the_labeling_screen(
    client, managers_pair
):
    project, runs = managers_pair
    seen = []
    for user, task, got in runs:
        assignment = got.json()["assignment"]["id"]
        ids = [task.pk, assignment, user.pk, project.pk]
        client.force_login(user)
        work = client.get(reverse("annotation:work", args=[project.pk]))
        panel = client.post(
            reverse("annotation:work-next", args=[project.pk]), HTTP_HX_REQUEST="true"
        )
        draft = api(user).put(
            f"/api/v1/assignments/{assignment}/draft/", {"result": ANSWER}, format="json"
        )
        submit = client.post(
            reverse("annotation:work-submit", args=[project.pk, assignment]),
            {"result": json.dumps(ANSWER), "active_seconds": "7"},
            HTTP_HX_REQUEST="true",
        )
        my_work = client.get(reverse("quality:my-work", args=[project.pk]))
        pages = [work, panel, submit, my_work]
        for page in pages:
            assert "gold" not in page.content.decode().lower(), page.request["PATH_INFO"]
        seen.append(
            [(r.status_code, blank(r.content.decode(), ids, user.get_username())) for r in pages]
            + [
                (r.status_code, json.dumps(blank_json(r.json()), sort_keys=True))
                for r in (got, draft)
            ]
        )
    assert seen[0] == seen[1]


def test_nobody_reviews_their_own_answers_and_a_managers_answers_are_judged(
    client, django_capture_on_commit_callbacks
):
    maria, rui = make_user("maria"), make_user("rui")
    project = make_project(
        kind="ranking",
        members={maria: Role.MANAGER, rui: Role.REVIEWER},
        quality={"overlap": 1, "review_policy": "share", "review_share": 1.0},
    )
    _both(project, maria)
    data = {"prompt": "Best?", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
    task = Task.objects.create(project=project, data=data)
    gold = Task.objects.create(
        project=project, data=data, is_gold=True, gold={"preference": "a", "strength": 1}
    )
    with django_capture_on_commit_callbacks(execute=True):  # the quality step runs
        for _ in range(2):
            _set(project, gold_rate=1.0 if not Annotation.objects.exists() else 0.0)
            got = api(maria).post(f"/api/v1/projects/{project.pk}/next/").json()
            api(maria).post(
                f"/api/v1/assignments/{got['assignment']['id']}/submit/",
                {"result": {"preference": "a", "strength": 1}, "active_seconds": 4},
                format="json",
            )
    # judged like anyone's: counted in her standing, the gold one scored
    standing = ProjectContributor.objects.select_related("standing").get(
        project=project, user=maria
    )
    assert standing.standing.submitted_count == 2
    assert standing.gold_answered_count == 1
    assert Annotation.objects.get(task=gold).gold_score == pytest.approx(1.0)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW

    # Maria manages the project, so she may review, but not this task: she answered it.
    client.force_login(maria)
    queue_page = client.get(reverse("quality:review-queue", args=[project.pk])).content
    assert b'data-testid="review-row"' not in queue_page
    assert api(maria).get(f"/api/v1/projects/{project.pk}/reviews/next/").status_code == 204
    refused = api(maria).post(f"/api/v1/reviews/{task.pk}/", {"verdict": "accept"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "own_answer"
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    # Rui reviews it.
    client.force_login(rui)
    assert (
        b'data-testid="review-row"'
        in client.get(reverse("quality:review-queue", args=[project.pk])).content
    )
    assert api(rui).get(f"/api/v1/projects/{project.pk}/reviews/next/").json()["task"]["id"] == (
        task.pk
    )
    accepted = api(rui).post(f"/api/v1/reviews/{task.pk}/", {"verdict": "accept"}, format="json")
    assert accepted.status_code == 200, accepted.json()
