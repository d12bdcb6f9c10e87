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
    assert "3</strong> tasks waiting for you" in html
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
    # session + user, projects with roles, task counts, what waits for the contributor (whether
    # they are paused, and the tasks they could still get: two for all projects), and "may this
    # person create projects?", the open projects they might join, and what each project pays
    # (its rates and its organization's currency: two for all projects)
    with django_assert_max_num_queries(10):
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


def test_counts_agree_and_waiting_for_you_is_what_the_queue_would_give(client, world):
    """Gold is counted apart everywhere; a contributor's figure is their own queue, gold
    included (so that it drops by one whatever they are given), none when they are paused."""
    from annotation import queue
    from annotation.models import ContributorStatus, ProjectContributor, Task

    a1, ana = world["a1"], world["ana"]
    Task.objects.create(
        project=a1, data={"image": "https://x/g.jpg"}, is_gold=True, gold={"boxes": []}
    )
    client.force_login(ana)
    assert "4</strong> tasks waiting for you" in client.get(reverse("home")).content.decode()
    lease = queue.assignment_claim_next(project=a1, contributor=ana)
    queue.annotation_submit(
        assignment_id=lease.pk, contributor=ana, result={"boxes": []}, active_seconds=1
    )
    home = client.get(reverse("home")).content.decode()
    assert "3</strong> tasks waiting for you" in home
    detail = client.get(reverse("projects:detail", args=[a1.pk])).content.decode()
    assert "3</strong> tasks waiting for you" in detail
    ProjectContributor.objects.filter(project=a1, user=ana).update(status=ContributorStatus.PAUSED)
    assert "Your work here is paused" in client.get(reverse("home")).content.decode()

    # The manager's figures leave gold out of the task count and show it apart.
    manager = make_user("maria")
    a1.members.create(user=manager, role=Role.MANAGER)
    client.force_login(manager)
    home = client.get(reverse("home")).content.decode()
    assert "4</strong> tasks · 1 accepted · 0 in review · 1 gold (apart)" in home
    detail = client.get(reverse("projects:detail", args=[a1.pk])).content.decode()
    assert "4</strong> tasks, 2 waiting for answers · 1 gold (counted apart)" in detail
    tasks = client.get(reverse("annotation:task-list", args=[a1.pk])).content.decode()
    assert "<strong>4</strong> tasks" in tasks
    assert "<strong>1</strong> gold (counted apart)" in tasks
