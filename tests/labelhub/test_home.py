import pytest
from django.urls import reverse

from annotation.models import TaskStatus
from labelhub.models import Role
from tests.factories import make_organization, make_project, make_task, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two organizations; ana labels A1, reviews A2 and manages A3; B1 belongs to another org."""
    org_a, org_b = make_organization("Acme"), make_organization("Beta")
    ana = make_user("ana")
    stranger = make_user("stranger")
    a1 = make_project(organization=org_a, name="Alpha boxes", members={ana: Role.CONTRIBUTOR})
    a2 = make_project(
        organization=org_a, name="Alpha ranks", kind="ranking", members={ana: Role.REVIEWER}
    )
    a3 = make_project(
        organization=org_a,
        name="Alpha clips",
        kind="transcription",
        members={ana: Role.MANAGER, stranger: Role.CONTRIBUTOR},
    )
    b1 = make_project(organization=org_b, name="Beta secret", members={stranger: Role.MANAGER})
    for _ in range(3):
        make_task(project=a1)
    make_task(project=a1, status=TaskStatus.ACCEPTED)
    make_task(project=a2, status=TaskStatus.IN_REVIEW)
    make_task(project=a3, status=TaskStatus.ACCEPTED)
    make_task(project=a3)
    return {"ana": ana, "stranger": stranger, "a1": a1, "a2": a2, "a3": a3, "b1": b1}


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_groups_projects_by_role_with_counts(client, world):
    client.force_login(world["ana"])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [p.name for p in groups.label] == ["Alpha boxes"]
    assert [p.name for p in groups.review] == ["Alpha ranks"]
    assert [p.name for p in groups.manage] == ["Alpha clips"]
    assert groups.label[0].task_open == 3
    assert groups.review[0].task_in_review == 1
    managed = groups.manage[0]
    assert (managed.task_total, managed.task_accepted, managed.member_total) == (2, 1, 2)
    html = response.content.decode()
    assert "3</strong> tasks waiting for answers" in html
    assert "1</strong> task in review" in html


def test_home_never_shows_another_organizations_projects(client, world):
    client.force_login(world["ana"])
    html = client.get(reverse("home")).content.decode()
    assert "Beta secret" not in html


def test_person_without_projects_sees_how_to_get_one(client, world):
    client.force_login(make_user())
    html = client.get(reverse("home")).content.decode()
    assert "You have no projects yet" in html


def test_filter_by_name_renders_only_the_groups_partial_for_htmx(client, world):
    client.force_login(world["ana"])
    response = client.get(reverse("home"), {"q": "clips"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="project-groups">')
    assert "<html" not in html
    assert "Alpha clips" in html
    assert "Alpha boxes" not in html


def test_filter_works_without_javascript_as_a_full_page(client, world):
    client.force_login(world["ana"])
    html = client.get(reverse("home"), {"q": "nothing-like-this"}).content.decode()
    assert "<html" in html
    assert "No project matches" in html


def test_home_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(5):
        make_project(
            organization=world["a1"].organization, members={world["ana"]: Role.CONTRIBUTOR}
        )
    client.force_login(world["ana"])
    # session + user, projects with roles, task counts, and "may this person create projects?"
    with django_assert_max_num_queries(5):
        client.get(reverse("home"))


def test_pages_carry_a_strict_content_security_policy(client, world):
    client.force_login(world["ana"])
    response = client.get(reverse("home"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    assert "<script>" not in html
    assert "hx-on" not in html
