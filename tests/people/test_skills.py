"""Profiles, the organization's skills, project requirements, finding people and open projects."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labelhub.accounts import api_token_issue
from labelhub.models import (
    AuditAction,
    AuditEvent,
    OrganizationMember,
    PersonSkill,
    ProjectMember,
    Role,
    Skill,
    SkillLevel,
    Verification,
)
from people.skills import (
    Need,
    person_skill_set,
    person_skill_verify,
    profile_update,
    project_requirements_set,
)
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organization = make_organization("Clinic AI")
    admin = make_user("olga")
    OrganizationMember.objects.create(organization=organization, user=admin, is_admin=True)
    project = make_project(
        organization=organization, name="Radiology answers", members={admin: Role.MANAGER}
    )
    for name in ("medicine", "python", "legal-de"):
        Skill.objects.create(organization=organization, name=name)
    people = {}
    for username in ("doc", "junior", "coder", "german_doc"):
        people[username] = make_user(username, organization=organization)
    person_skill_set(
        organization=organization,
        user=people["doc"],
        skill="medicine",
        level="expert",
        actor=people["doc"],
    )
    person_skill_set(
        organization=organization,
        user=people["junior"],
        skill="medicine",
        level="working",
        actor=people["junior"],
    )
    person_skill_set(
        organization=organization,
        user=people["coder"],
        skill="python",
        level=3,
        actor=people["coder"],
    )
    person_skill_set(
        organization=organization,
        user=people["german_doc"],
        skill="medicine",
        level=2,
        actor=people["german_doc"],
    )
    profile_update(user=people["german_doc"], languages="de, en")
    profile_update(user=people["doc"], languages=["en"])
    elsewhere = make_organization("Elsewhere")
    stranger = make_user("stranger", organization=elsewhere)
    return organization, admin, project, people, stranger


def home(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("home")).content.decode()


def test_an_open_project_is_offered_to_members_who_meet_it_and_they_join_as_contributors(
    client, world
):
    _organization, admin, project, people, stranger = world
    project_requirements_set(
        project=project,
        needs=[Need(skill="medicine", level=SkillLevel.PROFESSIONAL)],
        languages=[],
        is_open=True,
        actor=admin,
    )
    for username in ("doc", "german_doc"):
        assert "Radiology answers" in home(client, people[username]), username
    for user in (people["junior"], people["coder"], stranger):
        page = home(client, user)
        assert "Radiology answers" not in page, user
        assert client.post(reverse("people:project-join", args=[project.pk])).status_code == 404
    assert not ProjectMember.objects.filter(project=project).exclude(user=admin).exists()

    client.force_login(people["doc"])
    response = client.post(reverse("people:project-join", args=[project.pk]))
    assert response["Location"] == reverse("projects:detail", args=[project.pk])
    assert ProjectMember.objects.get(project=project, user=people["doc"]).role == Role.CONTRIBUTOR
    assert "Open to join" not in home(client, people["doc"])  # on the project now: not offered
    assert client.get(reverse("annotation:work", args=[project.pk])).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.PROJECT_JOINED, project=project).exists()


def test_languages_and_verified_only_narrow_who_is_offered(client, world):
    organization, admin, project, people, _stranger = world
    project_requirements_set(
        project=project,
        needs=[Need(skill="medicine", level=2, verified_only=True)],
        languages=["de"],
        is_open=True,
        actor=admin,
    )
    assert "Radiology answers" not in home(client, people["german_doc"])  # self-declared only
    person_skill_verify(
        organization=organization, user=people["german_doc"], skill="medicine", actor=admin
    )
    assert "Radiology answers" in home(client, people["german_doc"])
    person_skill_verify(
        organization=organization, user=people["doc"], skill="medicine", actor=admin
    )
    assert "Radiology answers" not in home(client, people["doc"])  # speaks no German
    # a closed project is offered to nobody
    project_requirements_set(project=project, needs=[], languages=[], is_open=False, actor=admin)
    assert "Radiology answers" not in home(client, people["german_doc"])


def test_a_member_edits_their_profile_and_skills_and_a_new_level_is_self_declared_again(
    client, world
):
    organization, admin, _project, people, _stranger = world
    doc = people["doc"]
    person_skill_verify(organization=organization, user=doc, skill="medicine", actor=admin)
    client.force_login(doc)
    url = reverse("people:profile", args=[organization.slug])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"action": "profile", "languages": "en", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert "not a time zone" in bad.content.decode()
    client.post(
        url,
        {
            "action": "profile",
            "display_name": "Dr Doc",
            "languages": "en, pt-br",
            "time_zone": "Europe/Lisbon",
        },
    )
    doc.profile.refresh_from_db()
    assert doc.profile.languages == ["en", "pt-br"]
    assert doc.profile.time_zone == "Europe/Lisbon"
    medicine = Skill.objects.get(organization=organization, name="medicine")
    python = Skill.objects.get(organization=organization, name="python")
    client.post(url, {"action": "skills", f"skill_{medicine.pk}": "2", f"skill_{python.pk}": "1"})
    held = {h.skill.name: h for h in PersonSkill.objects.filter(user=doc)}
    assert held["medicine"].level == 2
    assert held["medicine"].verification == Verification.SELF  # was verified at expert
    assert held["python"].level == 1
    # another organization's profile page is not theirs
    assert client.get(reverse("people:profile", args=["elsewhere"])).status_code == 404


def test_admins_keep_the_skill_list_and_verify_on_a_persons_page(client, world):
    organization, admin, _project, people, _stranger = world
    client.force_login(people["doc"])
    assert client.get(reverse("people:skills", args=[organization.slug])).status_code == 404
    assert (
        client.get(
            reverse("people:person", args=[organization.slug, people["coder"].pk])
        ).status_code
        == 404
    )
    client.force_login(admin)
    client.post(reverse("people:skills", args=[organization.slug]), {"name": "Cardiology"})
    assert Skill.objects.filter(organization=organization, name="cardiology").exists()
    dup = client.post(reverse("people:skills", args=[organization.slug]), {"name": "python"})
    assert dup.status_code == 422
    page = reverse("people:person", args=[organization.slug, people["coder"].pk])
    assert b"Self-declared" in client.get(page).content
    client.post(page, {"verify": "python"})
    held = PersonSkill.objects.get(user=people["coder"])
    assert held.verification == Verification.ADMIN
    assert held.verified_by == admin
    assert b"Verified by an admin by olga" in client.get(page).content


def test_managers_find_people_by_requirements_and_add_them(client, world):
    organization, admin, project, people, _stranger = world
    client.force_login(admin)
    medicine = Skill.objects.get(organization=organization, name="medicine")
    client.post(
        reverse("people:project-requirements", args=[project.pk]),
        {f"skill_{medicine.pk}": "2", "languages": ""},
    )
    page = client.get(reverse("people:project-people", args=[project.pk])).content.decode()
    assert 'data-username="doc"' in page
    assert 'data-username="german_doc"' in page
    assert 'data-username="junior"' not in page
    assert 'data-username="coder"' not in page
    filtered = client.get(
        reverse("people:project-people", args=[project.pk]),
        {"filter": "1", f"skill_{medicine.pk}": "1", "languages": "de"},
    ).content.decode()
    assert 'data-username="german_doc"' in filtered
    assert 'data-username="doc"' not in filtered
    client.post(
        reverse("people:project-people-add", args=[project.pk]),
        {"people": [people["doc"].pk, people["german_doc"].pk]},
    )
    roles = dict(
        ProjectMember.objects.filter(project=project).values_list("user__username", "role")
    )
    assert roles == {"olga": "manager", "doc": "contributor", "german_doc": "contributor"}
    outsider = make_user()
    bad = client.post(
        reverse("people:project-people-add", args=[project.pk]),
        {"people": [outsider.pk]},
        follow=True,
    )
    assert b"members of the organization only" in bad.content
    assert AuditEvent.objects.filter(action=AuditAction.REQUIREMENTS_CHANGED).count() == 1


# --- the API ----------------------------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


def test_api_skills_profiles_requirements_and_join(world):
    organization, admin, project, people, stranger = world
    base = f"/api/v1/organizations/{organization.slug}"
    listed = api(people["junior"]).get(f"{base}/skills/").json()
    assert {s["name"]: s["holders"] for s in listed} == {"legal-de": 0, "medicine": 3, "python": 1}
    assert (
        api(people["junior"]).post(f"{base}/skills/", {"name": "x"}, format="json").status_code
        == 404
    )
    made = api(admin).post(f"{base}/skills/", {"name": "radiology"}, format="json")
    assert made.status_code == 201

    found = api(admin).get(f"{base}/profiles/", {"skill": "medicine:professional"}).json()
    assert sorted(p["username"] for p in found) == ["doc", "german_doc"]
    found = api(admin).get(f"{base}/profiles/", {"skill": "medicine", "language": "de"}).json()
    assert [p["username"] for p in found] == ["german_doc"]
    assert api(people["doc"]).get(f"{base}/profiles/").status_code == 404

    mine = f"{base}/profiles/{people['coder'].pk}/"
    changed = api(people["coder"]).patch(
        mine,
        {
            "display_name": "Cody",
            "languages": ["en"],
            "skills": [{"skill": "medicine", "level": "working"}],
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["display_name"] == "Cody"
    assert {s["skill"] for s in changed.json()["skills"]} == {"medicine", "python"}
    assert api(people["doc"]).get(mine).status_code == 404  # someone else's profile
    refused = api(people["coder"]).patch(mine, {"verify": ["python"]}, format="json")
    assert refused.status_code == 400
    verified = api(admin).patch(mine, {"verify": ["python"]}, format="json").json()
    assert {s["skill"]: s["verification"] for s in verified["skills"]}["python"] == "admin"
    assert api(admin).patch(mine, {"display_name": "X"}, format="json").status_code == 400
    assert api().get(mine).status_code == 401
    assert api(stranger).get(mine).status_code == 404

    requirements = f"/api/v1/projects/{project.pk}/requirements/"
    put = api(admin).put(
        requirements,
        {"skills": [{"skill": "python", "level": "expert"}], "is_open": True},
        format="json",
    )
    assert put.status_code == 200
    assert put.json() == {
        "skills": [{"skill": "python", "level": "expert", "verified_only": False}],
        "languages": [],
        "is_open": True,
    }
    assert api(people["doc"]).get(requirements).status_code == 404
    join = f"/api/v1/projects/{project.pk}/join/"
    assert api(people["doc"]).post(join).status_code == 404
    assert api(stranger).post(join).status_code == 404
    joined = api(people["coder"]).post(join)
    assert joined.status_code == 201
    assert joined.json() == {"project": project.pk, "role": "contributor"}
    assert api(people["coder"]).post(join).status_code == 404  # on it already
