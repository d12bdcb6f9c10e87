"""/api/v1/organizations/{slug}/members/ and …/invitations/: for the organization's admins only
(another organization's admin and a plain member get 404, anonymous 401)."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from labelhub.accounts import api_token_issue
from labelhub.models import AuditAction, AuditEvent, Invitation, OrganizationMember, ProjectMember
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _emails_on_commit(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture
def org():
    organization = make_organization("Acme AI")
    admin = make_user("olga", email="olga@acme.example")
    OrganizationMember.objects.create(organization=organization, user=admin, is_admin=True)
    member = make_user("ana", email="ana@acme.example")
    project = make_project(
        organization=organization, name="Cardio", members={admin: "manager", member: "contributor"}
    )
    other = make_organization("Other")
    outsider = make_user("out")
    OrganizationMember.objects.create(organization=other, user=outsider, is_admin=True)
    return organization, admin, member, outsider, project


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


def routes(organization, member, invitation_id=1):
    base = f"/api/v1/organizations/{organization.slug}"
    return [
        ("get", f"{base}/members/", None),
        ("patch", f"{base}/members/{member.pk}/", {"is_admin": True}),
        ("delete", f"{base}/members/{member.pk}/", None),
        ("get", f"{base}/invitations/", None),
        ("post", f"{base}/invitations/", {"emails": ["x@example.com"]}),
        ("post", f"{base}/invitations/{invitation_id}/revoke/", None),
    ]


def test_members_list_gives_roles_projects_and_standing(org):
    organization, admin, _member, _outsider, project = org
    response = api(admin).get(f"/api/v1/organizations/{organization.slug}/members/")
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()}
    assert rows["olga"]["is_admin"] is True
    assert rows["ana"]["projects"] == [{"id": project.pk, "name": "Cardio", "role": "contributor"}]
    assert rows["ana"]["standing"]["summary"] == "No answers yet"
    assert rows["ana"]["email"] == "ana@acme.example"


def test_patch_makes_an_admin_and_the_last_admin_stays(org):
    organization, admin, member, _outsider, _project = org
    base = f"/api/v1/organizations/{organization.slug}/members"
    made = api(admin).patch(f"{base}/{member.pk}/", {"is_admin": True}, format="json")
    assert made.status_code == 200
    assert made.json()["is_admin"] is True
    api(admin).patch(f"{base}/{member.pk}/", {"is_admin": False}, format="json")
    refused = api(admin).patch(f"{base}/{admin.pk}/", {"is_admin": False}, format="json")
    assert refused.status_code == 400
    assert "at least one admin" in refused.json()["is_admin"][0]


def test_delete_removes_the_person_and_their_token_answers_401(org):
    organization, admin, member, _outsider, project = org
    theirs = api(member)
    assert theirs.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    response = api(admin).delete(f"/api/v1/organizations/{organization.slug}/members/{member.pk}/")
    assert response.status_code == 204
    assert theirs.get(f"/api/v1/projects/{project.pk}/").status_code == 401
    assert not ProjectMember.objects.filter(user=member).exists()
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_REMOVED).exists()
    again = api(admin).delete(f"/api/v1/organizations/{organization.slug}/members/{member.pk}/")
    assert again.status_code == 404


def test_invitations_by_email_as_a_link_listed_and_revoked(org):
    organization, admin, _member, _outsider, project = org
    base = f"/api/v1/organizations/{organization.slug}/invitations/"
    sent = api(admin).post(
        base,
        {"emails": ["p@x.example", "q@x.example"], "role": "reviewer", "project": project.pk},
        format="json",
    )
    assert sent.status_code == 201, sent.json()
    assert [row["state"] for row in sent.json()] == ["sent", "sent"]
    assert sent.json()[0]["url"].startswith("http://testserver/invitations/")
    assert sorted(m.to[0] for m in mail.outbox) == ["p@x.example", "q@x.example"]
    link = api(admin).post(base, {"link": True, "max_uses": 3, "expires_in_days": 2}, format="json")
    assert link.status_code == 201
    [made] = link.json()
    assert made["link"] is True
    assert made["state"] == "active"
    assert made["max_uses"] == 3
    listed = api(admin).get(base).json()
    assert len(listed) == 3
    assert all("url" not in row for row in listed)  # the secret is given once
    revoked = api(admin).post(f"{base}{made['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert api().get(made["url"].removeprefix("http://testserver")).status_code == 410


def test_invitation_errors_name_the_row_and_field(org):
    organization, admin, _member, _outsider, project = org
    base = f"/api/v1/organizations/{organization.slug}/invitations/"
    bad = api(admin).post(base, {"emails": ["ok@x.example", "nope"], "role": "boss"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"row 1, role", "row 2, email"}
    assert api(admin).post(base, {"emails": []}, format="json").status_code == 400
    member_again = api(admin).post(base, {"email": "ana@acme.example"}, format="json")
    assert "a member already" in member_again.json()["email"][0]
    assert Invitation.objects.count() == 0
    del project


def test_other_organizations_admins_and_members_get_404_and_anonymous_401(org):
    organization, admin, member, outsider, _project = org
    invitation = Invitation.objects.create(
        organization=organization,
        email="z@x.example",
        secret_hash="0" * 64,
        expires_at="2999-01-01T00:00Z",
    )
    before = (
        OrganizationMember.objects.count(),
        Invitation.objects.filter(revoked_at=None).count(),
    )
    for caller, expected in ((outsider, 404), (member, 404), (None, 401)):
        for method, url, body in routes(organization, member, invitation.pk):
            response = getattr(api(caller), method)(url, body, format="json")
            assert response.status_code == expected, (caller, method, url, response.status_code)
    after = (OrganizationMember.objects.count(), Invitation.objects.filter(revoked_at=None).count())
    assert after == before
    assert mail.outbox == []
    del admin
