"""SCIM 2.0 Users: the provider creates people ahead of their sign-in and deactivates them (what
*Remove* does: leases back, token 401, sessions end, work kept)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from annotation import queue
from annotation.models import Assignment, AssignmentStatus, Task
from labelhub.accounts import api_token_create
from labelhub.email_addresses import email_address_is_verified, email_address_mark_verified
from labelhub.models import ApiToken, AuditEvent, OrganizationMember, ProjectMember, Role
from signin.models import ProviderConfig, ProviderIdentity, ProviderSession
from signin.services import scim_token_create
from tests.factories import make_organization, make_project, make_user
from tests.signin.conftest import connect, database_text
from tests.signin.flow import sign_in

CT = "application/scim+json"


@pytest.fixture
def provider(acme):
    return ProviderConfig.objects.create(
        organization=acme,
        display_name="Acme SSO",
        issuer="https://login.acme.test",
        client_id="labelhub",
        allowed_domains=["acme.test"],
    )


@pytest.fixture
def scim(provider):
    token = scim_token_create(organization=provider.organization)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _create(scim, email="yara@acme.test", **extra):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Yara", "familyName": "Young"},
        "emails": [{"value": email, "primary": True}],
        "active": True,
        **extra,
    }
    return scim.post("/scim/v2/Users", body, content_type=CT)


def test_the_provider_creates_a_person_ahead_of_their_sign_in(scim, acme):
    response = _create(scim)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["userName"] == "yara@acme.test"
    assert body["active"] is True
    user = get_user_model().objects.get(pk=int(body["id"]))
    assert (user.first_name, user.email, user.has_usable_password()) == (
        "Yara",
        "yara@acme.test",
        False,
    )
    assert OrganizationMember.objects.filter(organization=acme, user=user).exists()
    found = scim.get('/scim/v2/Users?filter=userName eq "yara@acme.test"').json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == body["id"]
    assert _create(scim).status_code == 409  # the same address again


def test_deactivation_does_what_remove_does(scim, acme):
    user_id = int(_create(scim).json()["id"])
    person = get_user_model().objects.get(pk=user_id)
    project = make_project(organization=acme, kind="ranking", members={person: Role.CONTRIBUTOR})
    Task.objects.create(
        project=project,
        data={"prompt": "p", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]},
    )
    lease = queue.assignment_claim_next(project=project, contributor=person)
    token = api_token_create(user=person).key
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    response = scim.patch(f"/scim/v2/Users/{user_id}", patch, content_type=CT)
    assert response.status_code == 200
    assert response.json()["active"] is False
    person.refresh_from_db()
    assert person.is_active is False
    assert not OrganizationMember.objects.filter(organization=acme, user=person).exists()
    assert not Assignment.objects.filter(pk=lease.pk, status=AssignmentStatus.ACTIVE).exists()
    assert not ApiToken.objects.filter(user=person).exists()
    assert Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    # Work kept with the name: the account stays (deactivated, not deleted) and the audit log
    # says who left.
    assert get_user_model().objects.filter(pk=user_id, username=person.username).exists()
    assert AuditEvent.objects.filter(
        organization=acme, summary=f"{person.username} removed from Acme"
    ).exists()
    # Still known to the provider, as inactive; and it can bring the person back.
    assert scim.get(f"/scim/v2/Users/{user_id}").json()["active"] is False
    back = {"Operations": [{"op": "replace", "path": "active", "value": True}]}
    assert scim.patch(f"/scim/v2/Users/{user_id}", back, content_type=CT).json()["active"] is True
    assert OrganizationMember.objects.filter(organization=acme, user=person).exists()


def test_deactivation_ends_the_sessions_opened_through_the_provider(client, idp_clean, acme):
    connect(idp_clean, acme, base_url="http://testserver")
    idp_clean.person("zoe", email="zoe@acme.test")
    assert sign_in(client, idp_clean.browser_session("zoe"), acme.slug).status_code == 302
    user = get_user_model().objects.get(email="zoe@acme.test")
    assert client.get("/account/").status_code == 200
    token = scim_token_create(organization=acme)
    scim = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert scim.delete(f"/scim/v2/Users/{user.pk}").status_code == 204
    assert client.get("/account/").status_code == 302
    assert not ProviderSession.objects.exists()
    assert token not in database_text()


def test_scim_refuses_a_wrong_token_another_organizations_people_and_bad_input(scim, acme):
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get("/scim/v2/Users").status_code == 401
    assert Client().get("/scim/v2/Users").status_code == 401
    outsider = make_user("outsider", organization=make_organization("Beta"), email="o@beta.test")
    assert scim.get(f"/scim/v2/Users/{outsider.pk}").status_code == 404
    assert scim.delete(f"/scim/v2/Users/{outsider.pk}").status_code == 404
    listed = scim.get("/scim/v2/Users").json()
    assert outsider.pk not in [int(r["id"]) for r in listed["Resources"]]
    wrong_domain = _create(scim, email="x@beta.test")
    assert wrong_domain.status_code == 400
    assert wrong_domain.json()["scimType"] == "invalidValue"
    assert "not an address at acme.test" in wrong_domain.json()["detail"]
    bad = scim.post("/scim/v2/Users", b"{", content_type=CT)
    assert bad.status_code == 400
    assert bad.json()["scimType"] == "invalidSyntax"
    assert scim.get('/scim/v2/Users?filter=title co "x"').json()["scimType"] == "invalidFilter"
    assert get_user_model().objects.filter(email="x@beta.test").count() == 0


def test_an_admin_makes_the_scim_token_on_the_page_and_the_api(provider, acme):
    admin = Client()
    admin.force_login(acme.members.get(is_admin=True).user)
    page = admin.post(f"/organizations/{acme.slug}/people/sign-in/scim-token/")
    assert page.status_code == 200
    token = page.content.decode().split('data-testid="scim-token">', 1)[1].split("<", 1)[0]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/scim/v2/Users").status_code == 200
    response = admin.post(f"/api/v1/organizations/{acme.slug}/sign-in/scim-token/")
    assert response.status_code == 201
    assert response.json()["scim_url"] == "http://testserver/scim/v2/"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/scim/v2/Users").status_code == 401
    new = response.json()["token"]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {new}").get("/scim/v2/Users").status_code == 200
    assert admin.get(f"/api/v1/organizations/{acme.slug}/sign-in/").json()["scim_token_set"] is True


def _scim_for(organization) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {scim_token_create(organization=organization)}")


def test_a_person_created_by_scim_signs_in_with_that_account(client, idp_clean, acme):
    connect(idp_clean, acme, base_url="http://testserver")
    created = _create(_scim_for(acme))
    assert created.status_code == 201
    idp_clean.person("yara", email="yara@acme.test")
    response = sign_in(client, idp_clean.browser_session("yara"), acme.slug)
    assert response.status_code == 302, response.content.decode()[-400:]
    assert ProviderIdentity.objects.get().user_id == int(created.json()["id"])
    assert get_user_model().objects.filter(email__iexact="yara@acme.test").count() == 1
    user = get_user_model().objects.get(email="yara@acme.test")
    assert email_address_is_verified(user=user, email="yara@acme.test")
    assert client.get("/").wsgi_request.user == user


def test_a_person_created_inactive_by_scim_stays_out(client, idp_clean, acme):
    connect(idp_clean, acme, base_url="http://testserver")
    assert _create(_scim_for(acme), active=False).status_code == 201
    idp_clean.person("yara", email="yara@acme.test")
    response = sign_in(client, idp_clean.browser_session("yara"), acme.slug)
    assert response.status_code == 403
    assert 'data-reason="inactive"' in response.content.decode()
    user = get_user_model().objects.get(email="yara@acme.test")
    assert not OrganizationMember.objects.filter(organization=acme, user=user).exists()
    assert not ProviderIdentity.objects.exists()


def test_an_unconfirmed_sign_up_does_not_squat_an_address_for_scim(scim, acme):
    squatter = get_user_model().objects.create_user(
        "squatter", email="yara@acme.test", password="x-1234567", is_active=False
    )
    response = _create(scim)
    assert response.status_code == 201, response.content
    assert int(response.json()["id"]) != squatter.pk
    # An account that was used (it logged in once) still counts.
    get_user_model().objects.filter(pk=squatter.pk).update(last_login=timezone.now())
    assert _create(scim, email="Yara@acme.test").status_code == 409


def test_deactivating_a_projects_only_manager_still_ends_their_access(client, idp_clean, acme):
    """*Remove* refuses a project's only manager; SCIM deactivation suspends them instead: the
    session ends, the token answers 401, the provider hears success and the admins are told."""
    connect(idp_clean, acme, base_url="http://testserver")
    idp_clean.person("mona", email="mona@acme.test")
    assert sign_in(client, idp_clean.browser_session("mona"), acme.slug).status_code == 302
    mona = get_user_model().objects.get(email="mona@acme.test")
    project = make_project(organization=acme, name="Street signs", members={mona: Role.MANAGER})
    token = api_token_create(user=mona).key
    scim = _scim_for(acme)
    patch = {"Operations": [{"op": "replace", "path": "active", "value": False}]}
    response = scim.patch(f"/scim/v2/Users/{mona.pk}", patch, content_type=CT)
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert client.get("/account/").status_code == 302
    assert Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    mona.refresh_from_db()
    assert mona.is_active is False
    # Kept as the project's manager until an admin hands the project over.
    assert ProjectMember.objects.filter(project=project, user=mona, role=Role.MANAGER).exists()
    event = AuditEvent.objects.filter(organization=acme, changes__suspended=True).get()
    assert "only manager of Street signs" in event.summary
    assert scim.get(f"/scim/v2/Users/{mona.pk}").json()["active"] is False
    # DELETE again answers success and changes nothing more.
    assert scim.delete(f"/scim/v2/Users/{mona.pk}").status_code == 204
    assert AuditEvent.objects.filter(organization=acme, changes__suspended=True).count() == 1
    # Brought back by the provider: active again, with the roles they had.
    back = {"Operations": [{"op": "replace", "path": "active", "value": True}]}
    assert scim.patch(f"/scim/v2/Users/{mona.pk}", back, content_type=CT).json()["active"] is True


def test_scim_reaches_only_the_people_of_its_provider(scim, acme):
    owner = acme.members.get(is_admin=True).user  # signs in with a password, another address
    guest = make_user("guest", organization=acme, email="guest@elsewhere.test")
    colleague = make_user("colleague", organization=acme, email="colleague@acme.test")
    listed = {int(r["id"]) for r in scim.get("/scim/v2/Users").json()["Resources"]}
    assert colleague.pk in listed
    assert not listed & {owner.pk, guest.pk}
    for person in (owner, guest):
        assert scim.get(f"/scim/v2/Users/{person.pk}").status_code == 404
        assert scim.delete(f"/scim/v2/Users/{person.pk}").status_code == 404
    assert OrganizationMember.objects.filter(organization=acme, user=guest).exists()


def test_scim_cannot_give_a_person_another_accounts_address(scim, acme):
    yara = int(_create(scim).json()["id"])
    other = make_user("zed", organization=acme, email="zed@acme.test")
    taken = {"Operations": [{"op": "replace", "path": "userName", "value": "ZED@acme.test"}]}
    response = scim.patch(f"/scim/v2/Users/{yara}", taken, content_type=CT)
    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"
    assert get_user_model().objects.get(pk=yara).email == "yara@acme.test"
    # Verified by someone outside the organization: refused as well.
    outsider = get_user_model().objects.create_user("out", email="")
    email_address_mark_verified(user=outsider, email="out@acme.test")
    moved = {"Operations": [{"op": "replace", "path": "userName", "value": "out@acme.test"}]}
    assert scim.patch(f"/scim/v2/Users/{yara}", moved, content_type=CT).status_code == 409
    assert other.email == "zed@acme.test"
