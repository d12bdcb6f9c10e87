"""The project endpoints: create, read, change, members; other organizations see 404."""

import pytest
from rest_framework.test import APIClient

from labelhub.accounts import api_token_issue
from labelhub.models import OrganizationMember, Project, ProjectMember, Role
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    org = make_organization("Acme")
    admin = make_user("admin", organization=org)
    OrganizationMember.objects.filter(user=admin).update(is_admin=True)
    return org, admin


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


def test_admin_creates_a_project_and_becomes_its_manager(acme):
    org, admin = acme
    response = client_for(admin).post(
        "/api/v1/projects/",
        {"name": "Cars", "kind": "bbox", "quality": {"overlap": 3}, "instructions": "Box *cars*"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["organization"] == org.slug
    assert body["role"] == "manager"
    assert body["schema"] == {
        "labels": [{"name": "object", "colour": "#e6194b", "color": "#e6194b", "hotkey": 1}],
        "min_size": 2,
        "allow_empty": True,
    }
    assert body["quality"]["overlap"] == 3
    assert body["quality"]["lease_minutes"] == 30
    project = Project.objects.get(pk=body["id"])
    assert ProjectMember.objects.get(project=project).user == admin


def test_create_errors_are_json_by_field_path(acme):
    _, admin = acme
    response = client_for(admin).post(
        "/api/v1/projects/",
        {
            "name": "Cars",
            "kind": "bbox",
            "schema": {"labels": [{"name": "car", "hotkey": 12}]},
            "quality": {"overlap": 0},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "schema.labels.0.hotkey": ["A hotkey is a digit from 1 to 9."],
        "quality.overlap": ["Give a value from 1 to 10."],
    }
    assert not Project.objects.exists()


def test_non_admin_cannot_create_a_project(acme):
    org, _ = acme
    member = make_user(organization=org)
    response = client_for(member).post(
        "/api/v1/projects/", {"name": "X", "kind": "bbox"}, format="json"
    )
    assert response.status_code == 400
    assert "administrators" in response.json()["organization"][0]


def test_admin_of_several_organizations_names_one(acme):
    _org, admin = acme
    other = make_organization("Other")
    OrganizationMember.objects.create(organization=other, user=admin, is_admin=True)
    client = client_for(admin)
    response = client.post("/api/v1/projects/", {"name": "X", "kind": "bbox"}, format="json")
    assert response.status_code == 400
    response = client.post(
        "/api/v1/projects/",
        {"name": "X", "kind": "ranking", "organization": other.slug},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["organization"] == other.slug


def test_list_shows_only_the_callers_projects(acme):
    org, admin = acme
    mine = make_project(organization=org, name="Mine", members={admin: Role.CONTRIBUTOR})
    make_project(organization=org, name="Not mine")
    response = client_for(admin).get("/api/v1/projects/")
    assert [p["id"] for p in response.json()] == [mine.pk]
    assert response.json()[0]["quality"] is None  # contributors do not see the quality bars


def test_manager_patches_name_schema_quality_and_instructions(acme):
    org, admin = acme
    project = make_project(organization=org, kind="ranking", members={admin: Role.MANAGER})
    response = client_for(admin).patch(
        f"/api/v1/projects/{project.pk}/",
        {
            "name": "Chats",
            "schema": {"mode": "rank", "criteria": ["honesty"]},
            "quality": {"agreement_threshold": 0.7},
            "instructions": "# Rank",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    assert project.name == "Chats"
    assert project.schema["mode"] == "rank"
    assert project.quality["agreement_threshold"] == 0.7
    assert project.quality["overlap"] == 1
    assert project.instructions == "# Rank"


@pytest.mark.parametrize(
    ("kind", "bars"),
    [
        ("bbox", {"box_quorum": 0.75, "iou_threshold": 0.6}),
        ("ranking", {"strength_weight": 0.5, "criteria_weight": 0.25}),
        ("ranking", {"review_policy": "adaptive", "review_first_tasks": 20}),
        ("transcription", {"review_policy": "none", "gold_pass_score": 0.9}),
    ],
)
def test_every_documented_quality_setting_can_be_set(acme, kind, bars):
    org, admin = acme
    project = make_project(organization=org, kind=kind, members={admin: Role.MANAGER})
    url = f"/api/v1/projects/{project.pk}/"
    response = client_for(admin).patch(url, {"quality": bars}, format="json")
    assert response.status_code == 200, response.json()
    assert {key: response.json()["quality"][key] for key in bars} == bars


def test_a_bar_of_another_kind_is_refused_by_name(acme):
    org, admin = acme
    project = make_project(organization=org, kind="ranking", members={admin: Role.MANAGER})
    response = client_for(admin).patch(
        f"/api/v1/projects/{project.pk}/", {"quality": {"box_quorum": 0.5}}, format="json"
    )
    assert response.status_code == 400
    assert "quality.box_quorum" in response.json()


def test_changing_the_kind_drops_the_old_kinds_bars(acme):
    org, admin = acme
    project = make_project(organization=org, kind="bbox", members={admin: Role.MANAGER})
    response = client_for(admin).patch(
        f"/api/v1/projects/{project.pk}/", {"kind": "ranking"}, format="json"
    )
    assert response.status_code == 200, response.json()
    quality = response.json()["quality"]
    assert "iou_threshold" not in quality
    assert quality["criteria_weight"] == 0.5


def test_kind_cannot_change_once_there_are_tasks(acme):
    from tests.factories import make_task

    org, admin = acme
    project = make_project(organization=org, members={admin: Role.MANAGER})
    client = client_for(admin)
    response = client.patch(f"/api/v1/projects/{project.pk}/", {"kind": "ranking"}, format="json")
    assert response.status_code == 200
    assert response.json()["schema"]["mode"] == "pairwise"
    make_task(project=Project.objects.get(pk=project.pk))
    response = client.patch(f"/api/v1/projects/{project.pk}/", {"kind": "bbox"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"kind": ["The kind cannot change once the project has tasks."]}


def test_non_managers_cannot_patch_and_outsiders_get_404(acme):
    org, admin = acme
    reviewer = make_user(organization=org)
    project = make_project(organization=org, members={admin: Role.MANAGER, reviewer: Role.REVIEWER})
    url = f"/api/v1/projects/{project.pk}/"
    assert client_for(reviewer).get(url).status_code == 200
    assert client_for(reviewer).patch(url, {"name": "x"}, format="json").status_code == 404
    stranger = make_user(organization=make_organization())
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(stranger).get("/api/v1/projects/999999/").status_code == 404


def test_manager_adds_a_member_of_the_organization_only(acme):
    org, admin = acme
    project = make_project(organization=org, members={admin: Role.MANAGER})
    make_user("ana", organization=org)
    make_user("eve", organization=make_organization())
    client = client_for(admin)
    url = f"/api/v1/projects/{project.pk}/members/"
    response = client.post(url, {"username": "ana", "role": "reviewer"}, format="json")
    assert response.status_code == 201
    assert response.json()["username"] == "ana"
    assert ProjectMember.objects.get(project=project, user__username="ana").role == "reviewer"
    response = client.post(url, {"username": "eve", "role": "reviewer"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"username": ["No member of Acme has the username 'eve'."]}
    response = client.post(url, {"username": "ana", "role": "boss"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()


def test_anonymous_callers_are_refused():
    project = make_project()
    assert APIClient().get(f"/api/v1/projects/{project.pk}/").status_code in (401, 403)


def test_openapi_schema_lists_the_endpoints(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/projects/",
        "/api/v1/projects/{project_id}/",
        "/api/v1/projects/{project_id}/members/",
        "/api/v1/projects/{project_id}/tasks/",
        "/api/v1/tasks/{task_id}/",
        "/api/v1/imports/{import_id}/",
    ]:
        assert path in paths, path
