"""Content categories over the API: the organization's list, a project's, a person's opt-outs,
the limits of sensitive work, and tasks imported with categories."""

import pytest
from rest_framework.test import APIClient

from annotation.importing import ImportRejected, parse_csv, parse_jsonl
from annotation.imports import tasks_import
from annotation.models import Task
from labelhub.content import content_category_create
from labelhub.models import AuditAction, AuditEvent, OrganizationMember, Role
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db

BUILT_INS = ["violence", "sexual-content", "self-harm", "hate", "medical-imagery"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world():
    org = make_organization()
    admin = make_user(organization=org)
    OrganizationMember.objects.filter(user=admin).update(is_admin=True)
    manager, worker = make_user(), make_user()
    project = make_project(
        organization=org,
        kind="bbox",
        members={admin: Role.MANAGER, manager: Role.MANAGER, worker: Role.CONTRIBUTOR},
    )
    outsider = make_user(organization=make_organization())
    return org, admin, manager, worker, project, outsider


def categories_url(org) -> str:
    return f"/api/v1/organizations/{org.slug}/content-categories/"


def test_members_read_the_categories_other_organizations_do_not(world):
    org, _admin, _manager, worker, _project, outsider = world
    response = api(worker).get(categories_url(org))
    assert response.status_code == 200
    assert [c["name"] for c in response.json()] == BUILT_INS
    assert response.json()[0] == {"name": "violence", "label": "Violence", "built_in": True}
    assert api(outsider).get(categories_url(org)).status_code == 404


def test_only_admins_add_categories(world):
    org, admin, manager, worker, _project, _outsider = world
    for person in (worker, manager):
        assert api(person).post(categories_url(org), {"name": "gore"}).status_code == 404
    response = api(admin).post(
        categories_url(org), {"name": "animal-cruelty", "label": "Animal cruelty"}
    )
    assert response.status_code == 201
    assert response.json() == {
        "name": "animal-cruelty",
        "label": "Animal cruelty",
        "built_in": False,
    }
    assert api(admin).post(categories_url(org), {"name": "violence"}).status_code == 400
    assert api(admin).post(categories_url(org), {"name": "no way!"}).status_code == 400
    assert [c["name"] for c in api(worker).get(categories_url(org)).json()][-1] == "animal-cruelty"
    assert AuditEvent.objects.filter(action=AuditAction.CONTENT_CATEGORIES_CHANGED).count() == 1


def test_only_managers_set_a_projects_categories(world):
    org, admin, manager, worker, project, _outsider = world
    content_category_create(organization=org, name="gore", actor=admin)
    url = f"/api/v1/projects/{project.pk}/"
    assert (
        api(worker).patch(url, {"content_categories": ["hate"]}, format="json").status_code == 404
    )
    response = api(manager).patch(url, {"content_categories": ["gore", "hate"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["content_categories"] == ["hate", "gore"]
    project.refresh_from_db()
    assert project.content_flags == (1 << 3) | (1 << 5)
    assert api(worker).get(url).json()["content_categories"] == ["hate", "gore"]
    bad = api(manager).patch(url, {"content_categories": ["nope"]}, format="json")
    assert bad.status_code == 400
    assert "nope" in str(bad.json()["content_categories"])
    both = api(manager).patch(url, {"name": "Renamed", "content_categories": []}, format="json")
    assert both.status_code == 200
    assert both.json()["content_categories"] == []
    assert both.json()["name"] == "Renamed"


def test_a_person_sets_their_own_opt_outs(world):
    org, _admin, _manager, worker, _project, outsider = world
    url = f"/api/v1/organizations/{org.slug}/content-preferences/"
    assert api(worker).get(url).json() == {"opted_out": []}
    response = api(worker).put(url, {"opted_out": ["self-harm", "violence"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"opted_out": ["violence", "self-harm"]}
    member = OrganizationMember.objects.get(organization=org, user=worker)
    assert member.content_opt_outs == 0b101
    assert api(worker).put(url, {"opted_out": ["nope"]}, format="json").status_code == 400
    assert api(outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.CONTENT_PREFERENCES_CHANGED).count() == 1


def test_admins_change_the_limits_members_read_them(world):
    org, admin, _manager, worker, _project, _outsider = world
    url = f"/api/v1/organizations/{org.slug}/content-policy/"
    assert api(worker).get(url).json() == {
        "sensitive_minutes_per_day": 120,
        "sensitive_break_after": 10,
    }
    assert api(worker).patch(url, {"sensitive_minutes_per_day": 0}).status_code == 404
    response = api(admin).patch(url, {"sensitive_minutes_per_day": 45}, format="json")
    assert response.json() == {"sensitive_minutes_per_day": 45, "sensitive_break_after": 10}
    assert api(admin).patch(url, {"sensitive_break_after": -1}, format="json").status_code == 400


def test_tasks_import_with_their_categories_and_show_them(world):
    org, admin, manager, _worker, project, _outsider = world
    content_category_create(organization=org, name="gore", actor=admin)
    url = f"/api/v1/projects/{project.pk}/tasks/"
    items = [
        {"data": {"image": "https://example.com/a.jpg"}, "content": ["violence", "gore"]},
        {"data": {"image": "https://example.com/b.jpg"}},
    ]
    response = api(manager).post(url, items, format="json")
    assert response.status_code == 201, response.json()
    a, b = Task.objects.filter(project=project).order_by("pk")
    assert (a.content_flags, b.content_flags) == (1 | (1 << 5), 0)
    listed = api(manager).get(url).json()["results"]
    assert {t["id"]: t["content"] for t in listed} == {a.pk: ["violence", "gore"], b.pk: []}


def test_an_unknown_category_refuses_the_whole_import_by_row_and_field(world):
    _org, _admin, manager, _worker, project, _outsider = world
    items = [
        {"data": {"image": "https://example.com/a.jpg"}, "content": ["violence"]},
        {"data": {"image": "https://example.com/b.jpg"}, "content": ["gore"]},
    ]
    response = api(manager).post(f"/api/v1/projects/{project.pk}/tasks/", items, format="json")
    assert response.status_code == 400
    (problem,) = response.json()["problems"]
    assert (problem["where"], problem["field"]) == ("item 2", "content")
    assert "'gore' is not a content category" in problem["message"]
    assert not Task.objects.filter(project=project).exists()


def test_csv_and_jsonl_carry_categories(world):
    _org, _admin, _manager, _worker, project, _outsider = world
    csv = b'image,content\nhttps://example.com/a.jpg,"violence, hate"\nhttps://example.com/b.jpg,\n'
    tasks_import(project=project, rows=parse_csv(csv, name="t.csv").rows)
    assert sorted(Task.objects.values_list("content_flags", flat=True)) == [0, 0b1001]
    with pytest.raises(ImportRejected) as rejected:
        tasks_import(
            project=project,
            rows=parse_csv(
                b"image,content\nhttps://example.com/c.jpg,violent\n", name="x.csv"
            ).rows,
        )
    assert str(rejected.value.problems[0]).startswith("row 2, content: 'violent'")
    line = b'{"data": {"image": "https://example.com/d.jpg"}, "content": ["self-harm"]}\n'
    tasks_import(project=project, rows=parse_jsonl(line, name="t.jsonl").rows)
    assert Task.objects.filter(content_flags=0b100).count() == 1


def test_reimport_by_external_id_changes_only_the_categories_given(world):
    _org, _admin, manager, _worker, project, _outsider = world
    url = f"/api/v1/projects/{project.pk}/tasks/"
    first = [
        {"data": {"image": "https://example.com/a.jpg"}, "external_id": "a", "content": ["hate"]}
    ]
    api(manager).post(url, first, format="json")
    api(manager).post(url, [{"external_id": "a", "priority": 3}], format="json")
    assert Task.objects.get(external_id="a").content_flags == 0b1000
    api(manager).post(url, [{"external_id": "a", "content": []}], format="json")
    assert Task.objects.get(external_id="a").content_flags == 0
