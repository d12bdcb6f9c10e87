"""Organizations and their people without the Django admin: making an organization, the People
page, invitations by email and by link, accepting them, removing a person, password reset."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from annotation import queue
from annotation.models import Annotation, Assignment, Task
from labelhub.accounts import api_token_issue
from labelhub.email_addresses import email_address_mark_verified
from labelhub.models import (
    AuditAction,
    AuditEvent,
    Invitation,
    OrganizationMember,
    ProjectMember,
    Role,
)
from people.invitations import (
    InviteRow,
    invitation_create_link,
    invitation_create_many,
    invitation_url,
)
from people.members import member_remove
from tests.factories import PASSWORD, make_organization, make_project, make_task, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _emails_on_commit(monkeypatch):
    """Emails leave once the transaction commits; the test's transaction never does, so run
    the after-commit work of each atomic block as it closes."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


User = get_user_model()
LINK = re.compile(r"https?://\S+/invitations/\S+/")


def _org_with_admin():
    organization = make_organization("Acme AI")
    admin = make_user("olga", email="olga@acme.example", first_name="Olga")
    OrganizationMember.objects.create(organization=organization, user=admin, is_admin=True)
    project = make_project(
        organization=organization, name="Radiology QA", members={admin: "manager"}
    )
    return organization, admin, project


def _link_in(message) -> str:
    return LINK.search(message.body).group(0)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _confirm(client):
    """A sign-up is finished by the link mailed to its address (issue #24)."""
    url = re.search(r"https?://\S+/email/confirm/\S+/", mail.outbox[-1].body).group(0)
    return client.post(_path(url))


# --- making an organization -------------------------------------------------------------------


def test_createorganization_invites_a_new_admin_by_email_and_the_link_makes_them_admin(client):
    out = io.StringIO()
    call_command(
        "createorganization", "Northwind Legal", "--admin", "lea@northwind.example", stdout=out
    )
    assert "Created Northwind Legal (northwind-legal)" in out.getvalue()
    [message] = mail.outbox
    assert message.to == ["lea@northwind.example"]
    assert "Northwind Legal" in message.subject
    url = _link_in(message)
    assert url in out.getvalue()
    response = client.post(
        _path(url),
        {"username": "lea", "password1": "plum-orchard-47", "password2": "plum-orchard-47"},
    )
    assert response.status_code == 200
    assert mail.outbox[-1].to == ["lea@northwind.example"]
    assert _confirm(client).status_code == 302
    member = OrganizationMember.objects.get(user__username="lea")
    assert member.organization.slug == "northwind-legal"
    assert member.is_admin
    assert member.user.email == "lea@northwind.example"
    assert client.get(reverse("people:list", args=["northwind-legal"])).status_code == 200


def test_createorganization_makes_an_existing_account_admin_and_refuses_a_taken_name():
    kim = make_user("kim", email="kim@example.com")
    email_address_mark_verified(user=kim, email=kim.email)
    out = io.StringIO()
    call_command("createorganization", "Kim's Lab", "--admin", "KIM@example.com", stdout=out)
    assert "kim is its admin" in out.getvalue()
    assert OrganizationMember.objects.get(user__username="kim").is_admin
    assert mail.outbox == []
    with pytest.raises(CommandError, match="exists already"):
        call_command("createorganization", "kim's lab", "--admin", "x@example.com", stdout=out)
    assert AuditEvent.objects.filter(action=AuditAction.ORGANIZATION_CREATED).count() == 1


def test_staff_make_an_organization_from_a_page_and_nobody_else_can(client):
    client.force_login(make_user())
    assert client.get(reverse("people:organization-new")).status_code == 404
    client.force_login(make_user(is_staff=True))
    page = client.get(reverse("people:organization-new"))
    assert page.status_code == 200
    response = client.post(
        reverse("people:organization-new"), {"name": "Helix Bio", "admin_email": "hb@x.example"}
    )
    assert response.status_code == 302
    assert Invitation.objects.get(email="hb@x.example").is_admin
    assert len(mail.outbox) == 1


# --- the People page --------------------------------------------------------------------------


def test_people_page_lists_members_with_roles_projects_last_activity_and_standing(client):
    organization, admin, project = _org_with_admin()
    ana = make_user("ana", email="ana@acme.example", first_name="Ana", last_name="Silva")
    OrganizationMember.objects.create(organization=organization, user=ana)
    ProjectMember.objects.create(project=project, user=ana, role=Role.CONTRIBUTOR)
    make_task(project=project)
    assignment = queue.assignment_claim_next(project=project, contributor=ana)
    queue.annotation_submit(
        assignment_id=assignment.pk, contributor=ana, result={"boxes": []}, active_seconds=3
    )
    client.force_login(admin)
    page = client.get(reverse("people:list", args=[organization.slug])).content.decode()
    assert "Ana Silva" in page
    assert "ana@acme.example" in page
    assert "Radiology QA" in page
    assert "contributor" in page
    assert "1 answer" in page
    assert 'data-testid="admin-badge"' in page


def test_only_admins_of_the_organization_see_its_people_page(client):
    organization, _admin, _project = _org_with_admin()
    url = reverse("people:list", args=[organization.slug])
    member = make_user(organization=organization)
    other_admin = make_user()
    other = make_organization()
    OrganizationMember.objects.create(organization=other, user=other_admin, is_admin=True)
    for person in (member, other_admin, make_user(is_staff=True)):
        client.force_login(person)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_invite_a_pasted_list_sends_one_email_each_and_shows_them_as_sent(client):
    organization, admin, project = _org_with_admin()
    client.force_login(admin)
    response = client.post(
        reverse("people:invite", args=[organization.slug]),
        {
            "emails": "ben@x.example, Cleo <cleo@x.example>\ndee@x.example",
            "role": "reviewer",
            "project": project.pk,
        },
    )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ben@x.example",
        "cleo@x.example",
        "dee@x.example",
    ]
    assert all("Radiology QA" in m.body for m in mail.outbox)
    invitations = Invitation.objects.filter(organization=organization)
    assert {i.state for i in invitations} == {"sent"}
    assert {i.role for i in invitations} == {"reviewer"}
    page = client.get(reverse("people:list", args=[organization.slug])).content.decode()
    assert page.count('data-state="sent"') == 3
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_CREATED).count() == 3
    # the same address again is refused while its invitation is open
    again = client.post(
        reverse("people:invite", args=[organization.slug]),
        {"emails": "ben@x.example", "role": "contributor", "project": project.pk},
    )
    assert again.status_code == 422
    assert "has an open invitation" in again.content.decode()


def test_invite_a_csv_names_the_bad_row_and_invites_nobody_then(client):
    organization, admin, project = _org_with_admin()
    client.force_login(admin)
    bad = io.BytesIO(
        b"email,role,project\nok@x.example,contributor,Radiology QA\nnot-an-address,,\n"
    )
    bad.name = "people.csv"
    response = client.post(
        reverse("people:invite", args=[organization.slug]),
        {"file": bad, "role": "contributor", "project": ""},
    )
    assert response.status_code == 422
    assert "row 3" in response.content.decode()
    assert Invitation.objects.count() == 0
    assert mail.outbox == []
    good = io.BytesIO(
        b"Email,Role,Project\nok@x.example,contributor,Radiology QA\n"
        + f"boss@x.example,admin,\nrev@x.example,reviewer,{project.pk}\n".encode()
    )
    good.name = "people.csv"
    response = client.post(
        reverse("people:invite", args=[organization.slug]),
        {"file": good, "role": "contributor", "project": ""},
    )
    assert response.status_code == 302
    by_email = {i.email: i for i in Invitation.objects.all()}
    assert by_email["ok@x.example"].project == project
    assert by_email["boss@x.example"].is_admin
    assert by_email["boss@x.example"].project is None
    assert by_email["rev@x.example"].role == "reviewer"
    assert len(mail.outbox) == 3


# --- accepting --------------------------------------------------------------------------------


def _invite(organization, admin, project, email="new@x.example", role="contributor"):
    invitation_create_many(
        organization=organization,
        actor=admin,
        rows=[InviteRow(email=email, role=role, project=project.pk)],
        base_url="http://testserver/",
    )
    return _path(_link_in(mail.outbox[-1]))


def test_a_new_person_sets_a_password_checked_by_djangos_validators_and_lands_on_the_project(
    client,
):
    organization, admin, project = _org_with_admin()
    path = _invite(organization, admin, project)
    page = client.get(path)
    assert page.status_code == 200
    assert "Radiology QA" in page.content.decode()
    weak = client.post(
        path, {"username": "newbie", "password1": "12345678", "password2": "12345678"}
    )
    assert weak.status_code == 422
    assert "too common" in weak.content.decode() or "entirely numeric" in weak.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    response = client.post(
        path, {"username": "newbie", "password1": "quiet-river-93", "password2": "quiet-river-93"}
    )
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    response = _confirm(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:detail", args=[project.pk])
    newbie = User.objects.get(username="newbie")
    assert newbie.email == "new@x.example"
    assert ProjectMember.objects.get(project=project, user=newbie).role == Role.CONTRIBUTOR
    assert client.get(response["Location"]).status_code == 200  # signed in, on the project
    invitation = Invitation.objects.get()
    assert invitation.state == "accepted"
    assert invitation.accepted_by == newbie
    # used: it says so, in words
    client.logout()
    used = client.get(path)
    assert used.status_code == 410
    assert "has been used already" in used.content.decode()


def test_revoked_expired_and_forged_invitations_say_why(client):
    organization, admin, project = _org_with_admin()
    path = _invite(organization, admin, project, email="a@x.example")
    invitation = Invitation.objects.get(email="a@x.example")
    client.force_login(admin)
    client.post(reverse("people:invitation-revoke", args=[organization.slug, invitation.pk]))
    client.logout()
    assert "was revoked" in client.get(path).content.decode()
    path = _invite(organization, admin, project, email="b@x.example")
    Invitation.objects.filter(email="b@x.example").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert "expired on" in client.get(path).content.decode()
    path = _invite(organization, admin, project, email="c@x.example")
    forged = path[:-6] + ("A" if path[-6] != "A" else "B") + path[-5:]
    for wrong in (forged, "/invitations/1.short/", "/invitations/nonsense/"):
        response = client.get(wrong)
        assert response.status_code == 410
        assert "not valid" in response.content.decode()
        assert client.post(wrong, {"username": "x"}).status_code == 410
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_REVOKED).count() == 1


def test_an_address_with_an_account_is_asked_to_log_in_rather_than_make_another(client):
    organization, admin, project = _org_with_admin()
    kai = make_user("kai", email="kai@x.example")
    email_address_mark_verified(user=kai, email=kai.email)
    path = _invite(organization, admin, project, email="kai@x.example")
    response = client.post(
        path, {"username": "kai2", "password1": "tidal-basin-77", "password2": "tidal-basin-77"}
    )
    assert response.status_code == 200  # the page says nothing of the account; the mail does
    assert "has an account already: log in as kai" in mail.outbox[-1].body
    assert not User.objects.filter(username="kai2").exists()


def test_a_signed_in_person_joins_with_their_account(client):
    organization, admin, project = _org_with_admin()
    elsewhere = make_user("sol", email="sol@x.example", organization=make_organization())
    path = _invite(organization, admin, project, email="sol@x.example", role="reviewer")
    client.force_login(elsewhere)
    assert "Join as sol" in client.get(path).content.decode()
    response = client.post(path)
    assert response["Location"] == reverse("projects:detail", args=[project.pk])
    assert ProjectMember.objects.get(project=project, user=elsewhere).role == Role.REVIEWER
    assert OrganizationMember.objects.filter(user=elsewhere).count() == 2


def test_a_link_admits_as_many_people_as_its_uses_then_says_so(client):
    organization, admin, project = _org_with_admin()
    issued = invitation_create_link(
        organization=organization, actor=admin, project=project, max_uses=2, expires_in_days=3
    )
    path = _path(invitation_url(base_url="http://testserver/", token=issued.token))
    assert issued.invitation.state == "active"
    for n in (1, 2):
        fresh = client.__class__()
        response = fresh.post(
            path,
            {
                "username": f"link{n}",
                "email": f"link{n}@x.example",
                "password1": "amber-fox-31",
                "password2": "amber-fox-31",
            },
        )
        assert response.status_code == 200, response.content
        assert _confirm(fresh).status_code == 302
    assert "used as many times as it allows" in client.get(path).content.decode()
    assert (
        ProjectMember.objects.filter(project=project, user__username__startswith="link").count()
        == 2
    )


def test_the_people_page_makes_a_link_and_shows_it_once(client):
    organization, admin, project = _org_with_admin()
    client.force_login(admin)
    response = client.post(
        reverse("people:invite-link", args=[organization.slug]),
        {"role": "contributor", "project": project.pk, "max_uses": 5, "expires_in_days": 7},
    )
    assert response.status_code == 200
    link = re.search(r'data-testid="new-link">([^<]+)<', response.content.decode()).group(1)
    assert "/invitations/" in link
    again = client.get(reverse("people:list", args=[organization.slug])).content.decode()
    assert link not in again  # only its hash is stored
    assert "0 of 5 uses" in again


# --- removing a person ------------------------------------------------------------------------


def test_removing_a_person_ends_roles_token_and_session_at_once_and_keeps_their_work(client):
    organization, admin, project = _org_with_admin()
    ana = make_user("ana", organization=organization)
    ProjectMember.objects.create(project=project, user=ana, role=Role.CONTRIBUTOR)
    make_task(project=project, overlap=2)
    held = make_task(project=project)
    done = queue.assignment_claim_next(project=project, contributor=ana)
    queue.annotation_submit(
        assignment_id=done.pk, contributor=ana, result={"boxes": []}, active_seconds=1
    )
    lease = queue.assignment_claim_next(project=project, contributor=ana)
    token = api_token_issue(user=ana)
    ana_client = client.__class__()
    ana_client.force_login(ana)
    assert ana_client.get(reverse("projects:detail", args=[project.pk])).status_code == 200
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert ana_client.get("/api/v1/projects/", **headers).status_code == 200

    client.force_login(admin)
    response = client.post(reverse("people:remove", args=[organization.slug, ana.pk]))
    assert response.status_code == 302

    assert not ProjectMember.objects.filter(user=ana).exists()
    assert not OrganizationMember.objects.filter(user=ana).exists()
    anonymous = client.__class__()
    assert anonymous.get("/api/v1/projects/", **headers).status_code == 401
    page = ana_client.get(reverse("projects:detail", args=[project.pk]))
    assert page.status_code == 302
    assert "/accounts/login/" in page["Location"]
    assert not Assignment.objects.filter(pk=lease.pk).exists()  # its slot is free again
    held_task = Task.objects.get(pk=lease.task_id)
    assert held_task.lease_count == 0
    # their answer stays, under their name
    assert Annotation.objects.get(contributor=ana).contributor.get_username() == "ana"
    removed = AuditEvent.objects.get(action=AuditAction.PERSON_REMOVED)
    assert removed.changes["token_revoked"]
    assert removed.changes["account_deactivated"]
    assert AuditEvent.objects.filter(
        action=AuditAction.MEMBER_REMOVED, project=project, summary__startswith="ana removed"
    ).exists()
    del held


def test_a_person_in_another_organization_keeps_their_account_there():
    organization, admin, _project = _org_with_admin()
    other = make_organization()
    both = make_user(organization=organization)
    OrganizationMember.objects.create(organization=other, user=both)
    api_token_issue(user=both)
    member_remove(organization=organization, user_id=both.pk, actor=admin)
    both.refresh_from_db()
    assert both.is_active
    assert OrganizationMember.objects.filter(user=both, organization=other).exists()


def test_removal_from_one_organization_keeps_the_token_working_in_the_others(client):
    """Issue #24, item 9: the token ended with the first removal, cutting the other org off."""
    organization, admin, project = _org_with_admin()
    other = make_organization()
    elsewhere = make_project(organization=other)
    both = make_user(organization=organization)
    ProjectMember.objects.create(project=project, user=both, role=Role.CONTRIBUTOR)
    OrganizationMember.objects.create(organization=other, user=both)
    ProjectMember.objects.create(project=elsewhere, user=both, role=Role.CONTRIBUTOR)
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_issue(user=both).key}"}
    assert client.get(f"/api/v1/projects/{project.pk}/", **headers).status_code == 200

    member_remove(organization=organization, user_id=both.pk, actor=admin)

    assert client.get(f"/api/v1/projects/{project.pk}/", **headers).status_code == 404
    assert client.get(f"/api/v1/projects/{elsewhere.pk}/", **headers).status_code == 200
    listed = [row["id"] for row in client.get("/api/v1/projects/", **headers).json()]
    assert listed == [elsewhere.pk]
    removed = AuditEvent.objects.get(action=AuditAction.PERSON_REMOVED)
    assert not removed.changes["token_revoked"]


def test_the_last_admin_and_a_projects_only_manager_cannot_be_removed(client):
    organization, admin, _project = _org_with_admin()
    client.force_login(admin)
    response = client.post(
        reverse("people:remove", args=[organization.slug, admin.pk]), follow=True
    )
    assert "keeps at least one admin" in response.content.decode()
    second = make_user(organization=organization)
    client.post(reverse("people:admin", args=[organization.slug, second.pk]), {"is_admin": "true"})
    assert OrganizationMember.objects.get(user=second).is_admin
    response = client.post(
        reverse("people:remove", args=[organization.slug, admin.pk]), follow=True
    )
    assert "only manager of Radiology QA" in response.content.decode()
    assert OrganizationMember.objects.filter(user=admin).exists()
    client.post(reverse("people:admin", args=[organization.slug, second.pk]), {"is_admin": "false"})
    assert not OrganizationMember.objects.get(user=second).is_admin
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_ADMIN_CHANGED).count() == 2


# --- password reset ---------------------------------------------------------------------------


def test_password_reset_by_email_sets_a_new_password(client):
    make_user("rosa", email="rosa@x.example")
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200
    assert b"Reset your password" in page.content
    client.post(reverse("password_reset"), {"email": "rosa@x.example"})
    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)
    confirm = client.get(_path(link), follow=True)
    assert b"Choose a new password" in confirm.content
    form_url = confirm.redirect_chain[-1][0]
    done = client.post(
        form_url, {"new_password1": "cedar-lantern-58", "new_password2": "cedar-lantern-58"}
    )
    assert done.status_code == 302
    assert client.login(username="rosa", password="cedar-lantern-58")
    assert not client.login(username="rosa", password=PASSWORD)
    assert b"cannot be used" in client.get(_path(link), follow=True).content


def test_the_name_given_at_sign_up_is_the_profiles_display_name(client):
    organization, admin, project = _org_with_admin()
    issued = invitation_create_link(
        organization=organization, actor=admin, project=project, max_uses=1, expires_in_days=3
    )
    path = _path(invitation_url(base_url="http://testserver/", token=issued.token))
    response = client.post(
        path,
        {
            "username": "nadia",
            "full_name": "  Nadia   El Amrani ",
            "email": "nadia@x.example",
            "password1": "amber-fox-31",
            "password2": "amber-fox-31",
        },
    )
    assert response.status_code == 200, response.content
    assert _confirm(client).status_code == 302
    nadia = get_user_model().objects.get(username="nadia")
    assert nadia.profile.display_name == "Nadia El Amrani"
    assert (nadia.first_name, nadia.last_name) == ("Nadia", "El Amrani")
