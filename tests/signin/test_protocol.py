"""Signing in against a real OpenID provider: what is accepted and each refusal, with its words."""

import time
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from labelhub.accounts import api_token_create
from labelhub.email_addresses import email_address_is_verified, email_address_mark_verified
from labelhub.models import Organization, OrganizationMember, ProjectMember
from people.members import member_add, member_remove
from signin.models import ProviderIdentity, ProviderSession
from signin.services import SESSION_CHECK_AFTER, identities_recheck
from tests.factories import make_organization, make_project
from tests.signin.conftest import connect
from tests.signin.flow import provider_answer, sign_in, to_provider
from tests.signin.idp import free_port

BASE = "http://testserver"


def test_first_sign_in_creates_the_account_and_membership(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person(
        "ada", email="ada@acme.test", first_name="Ada", last_name="Lovelace", groups=[]
    )
    response = sign_in(client, idp_clean.browser_session("ada"), acme.slug)
    assert response.status_code == 302, response.content.decode()[-600:]
    assert response["Location"] == "/"
    user = get_user_model().objects.get(email="ada@acme.test")
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert not user.has_usable_password()
    member = OrganizationMember.objects.get(organization=acme, user=user)
    assert member.is_admin is False
    assert ProviderIdentity.objects.get(user=user).subject
    assert email_address_is_verified(user=user, email="ada@acme.test")
    assert client.get("/").wsgi_request.user == user


def _refusal(response) -> tuple[str, str]:
    """The refusal page's reason and words."""
    assert response.status_code == 403, response.status_code
    html = response.content.decode()
    reason = html.split('data-reason="', 1)[1].split('"', 1)[0]
    words = html.split('data-testid="refusal"', 1)[1].split(">", 1)[1].split("</p>", 1)[0]
    return reason, unescape(words)


def test_an_address_outside_the_allowed_domains_is_refused(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("eve", email="eve@elsewhere.test")
    response = sign_in(client, idp_clean.browser_session("eve"), acme.slug)
    reason, words = _refusal(response)
    assert reason == "domain"
    assert "Addresses at elsewhere.test do not sign in to Acme" in words
    assert not get_user_model().objects.filter(email="eve@elsewhere.test").exists()


def test_an_unverified_address_creates_nothing_and_binds_nothing(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    existing = get_user_model().objects.create_user("carol", email="carol@acme.test")
    OrganizationMember.objects.create(organization=acme, user=existing)
    idp_clean.person("carol-at-idp", email="carol@acme.test", email_verified=False)
    response = sign_in(client, idp_clean.browser_session("carol-at-idp"), acme.slug)
    reason, words = _refusal(response)
    assert reason == "email_verified"
    assert "has not verified your address carol@acme.test" in words
    assert not ProviderIdentity.objects.exists()
    assert get_user_model().objects.filter(email="carol@acme.test").count() == 1


def test_a_verified_address_binds_the_members_existing_account(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    existing = get_user_model().objects.create_user("dora", email="Dora@acme.test")
    OrganizationMember.objects.create(organization=acme, user=existing)
    email_address_mark_verified(user=existing, email="Dora@acme.test")
    idp_clean.person("dora-at-idp", email="dora@acme.test", first_name="Dora")
    response = sign_in(client, idp_clean.browser_session("dora-at-idp"), acme.slug)
    assert response.status_code == 302
    assert ProviderIdentity.objects.get().user == existing
    assert get_user_model().objects.filter(email__iexact="dora@acme.test").count() == 1


def test_a_members_account_with_the_address_unverified_is_not_bound(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    existing = get_user_model().objects.create_user("gwen", email="gwen@acme.test")
    OrganizationMember.objects.create(organization=acme, user=existing)
    idp_clean.person("gwen-at-idp", email="gwen@acme.test")
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("gwen-at-idp"), acme.slug))
    assert reason == "existing_account"
    assert "without having verified it" in words
    assert not ProviderIdentity.objects.exists()


def test_an_account_outside_the_organization_is_not_taken_over(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    fred = get_user_model().objects.create_user("fred", email="fred@acme.test")
    email_address_mark_verified(user=fred, email="fred@acme.test")
    idp_clean.person("fred-at-idp", email="fred@acme.test")
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("fred-at-idp"), acme.slug))
    assert reason == "existing_account"
    assert "exists already outside Acme" in words
    assert not ProviderIdentity.objects.exists()


def test_an_id_token_for_another_client_is_refused(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.application("other-app", "other-secret", ["http://other.test/cb"])
    idp_clean.person("gus", email="gus@acme.test")
    idp_clean.control("tamper", claims={"aud": "other-app"})
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("gus"), acme.slug))
    assert reason == "aud"
    assert "issued the ID token for another application" in words
    assert not ProviderIdentity.objects.exists()


def test_an_expired_id_token_is_refused(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("hal", email="hal@acme.test")
    idp_clean.control("tamper", claims={"exp": int(time.time()) - 600})
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("hal"), acme.slug))
    assert reason == "expired"
    assert "already expired" in words


def test_an_id_token_with_another_sign_ins_nonce_is_refused(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("ivy", email="ivy@acme.test")
    idp_clean.control("tamper", claims={"nonce": "a-nonce-from-another-sign-in"})
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("ivy"), acme.slug))
    assert reason == "nonce"
    assert "nonce does not match" in words


def test_a_replayed_answer_is_refused(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("jon", email="jon@acme.test")
    answer = provider_answer(idp_clean.browser_session("jon"), to_provider(client, acme.slug))
    assert client.get(answer).status_code == 302
    client.logout()
    reason, words = _refusal(client.get(answer))
    assert reason == "state"
    assert "already used or has expired" in words


def test_an_answer_meant_for_another_browser_is_refused(client, idp_clean, acme):
    """The state lives in the session of the browser that started: a stolen answer is useless."""
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("kim", email="kim@acme.test")
    answer = provider_answer(idp_clean.browser_session("kim"), to_provider(client, acme.slug))
    reason, _ = _refusal(Client().get(answer))
    assert reason == "state"


def test_a_rotated_signing_key_is_fetched_when_a_token_names_it(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("lea", email="lea@acme.test")
    at_provider = idp_clean.browser_session("lea")
    jwks = "/o/.well-known/jwks.json"
    before = idp_clean.requests_to(jwks)
    assert sign_in(client, at_provider, acme.slug).status_code == 302
    assert sign_in(Client(), at_provider, acme.slug).status_code == 302
    assert idp_clean.requests_to(jwks) == before + 1  # kept, not fetched for every sign-in
    idp_clean.control("rotate_key")
    response = sign_in(Client(), at_provider, acme.slug)
    assert response.status_code == 302, response.content.decode()[-400:]
    assert idp_clean.requests_to(jwks) == before + 2  # the new key, fetched once


def test_groups_become_roles_by_the_admins_rules(client, idp_clean, acme):
    project = make_project(organization=acme, name="Street signs")
    connect(
        idp_clean,
        acme,
        base_url=BASE,
        role_rules=[
            {"group": "labeling-admins", "admin": True},
            {"group": "vision", "project": project.pk, "role": "reviewer"},
        ],
    )
    idp_clean.person("max", email="max@acme.test", groups=["vision", "labeling-admins"])
    idp_clean.person("ned", email="ned@acme.test", groups=["finance"])
    assert sign_in(client, idp_clean.browser_session("max"), acme.slug).status_code == 302
    assert sign_in(Client(), idp_clean.browser_session("ned"), acme.slug).status_code == 302
    max_, ned = (get_user_model().objects.get(email=f"{n}@acme.test") for n in ("max", "ned"))
    assert OrganizationMember.objects.get(organization=acme, user=max_).is_admin is True
    assert list(ProjectMember.objects.filter(user=max_).values_list("project", "role")) == [
        (project.pk, "reviewer")
    ]
    assert OrganizationMember.objects.get(organization=acme, user=ned).is_admin is False
    assert not ProjectMember.objects.filter(user=ned).exists()


def test_each_sign_in_takes_the_name_and_address_from_the_provider(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE, allowed_domains=["acme.test", "acme-group.test"])
    idp_clean.person("olga", email="olga@acme.test", first_name="Olga", last_name="Old")
    assert sign_in(client, idp_clean.browser_session("olga"), acme.slug).status_code == 302
    idp_clean.person("olga", email="olga@acme-group.test", first_name="Olga", last_name="New")
    assert sign_in(Client(), idp_clean.browser_session("olga"), acme.slug).status_code == 302
    user = ProviderIdentity.objects.get().user
    user.refresh_from_db()
    assert (user.last_name, user.email) == ("New", "olga@acme-group.test")
    assert get_user_model().objects.filter(provider_identities__isnull=False).count() == 1


def test_an_unconfirmed_sign_up_does_not_squat_the_address(client, idp_clean, acme):
    """A sign-up never confirmed (inactive, never logged in, nothing verified) is ignored: the
    person the provider vouches for gets their own account, and the old link stays unusable."""
    connect(idp_clean, acme, base_url=BASE)
    squatter = get_user_model().objects.create_user(
        "squatter", email="pia@acme.test", password="x-1234567", is_active=False
    )
    idp_clean.person("pia", email="pia@acme.test")
    response = sign_in(client, idp_clean.browser_session("pia"), acme.slug)
    assert response.status_code == 302, response.content.decode()[-400:]
    user = ProviderIdentity.objects.get().user
    assert user.pk != squatter.pk
    assert email_address_is_verified(user=user, email="pia@acme.test")
    assert not email_address_is_verified(user=squatter, email="pia@acme.test")


def test_leaving_a_group_takes_back_what_its_rule_gave_and_nothing_else(client, idp_clean, acme):
    project = make_project(organization=acme, name="Street signs")
    connect(
        idp_clean,
        acme,
        base_url=BASE,
        recheck_minutes=1,
        role_rules=[
            {"group": "labeling-admins", "admin": True},
            {"group": "vision", "project": project.pk, "role": "reviewer"},
        ],
    )
    idp_clean.person("max", email="max@acme.test", groups=["vision", "labeling-admins"])
    idp_clean.person("ola", email="ola@acme.test", groups=["labeling-admins"])
    ola = get_user_model().objects.create_user("ola", email="ola@acme.test")
    email_address_mark_verified(user=ola, email="ola@acme.test")
    OrganizationMember.objects.create(organization=acme, user=ola, is_admin=True)  # by hand
    assert sign_in(client, idp_clean.browser_session("max"), acme.slug).status_code == 302
    assert sign_in(Client(), idp_clean.browser_session("ola"), acme.slug).status_code == 302
    max_ = get_user_model().objects.get(email="max@acme.test")
    ProjectMember.objects.create(project=project, user=max_, role="contributor")  # by hand
    assert OrganizationMember.objects.get(organization=acme, user=max_).is_admin is True

    idp_clean.person("max", email="max@acme.test", groups=[])
    idp_clean.person("ola", email="ola@acme.test", groups=[])
    later = timezone.now() + timedelta(seconds=61)
    assert identities_recheck(now=later)["valid"] == 2
    assert OrganizationMember.objects.get(organization=acme, user=max_).is_admin is False
    assert list(ProjectMember.objects.filter(user=max_).values_list("role", flat=True)) == [
        "contributor"
    ]
    assert OrganizationMember.objects.get(organization=acme, user=ola).is_admin is True
    # Back in the group: the rule gives the role again, at the next sign-in.
    idp_clean.person("max", email="max@acme.test", groups=["labeling-admins"])
    assert sign_in(Client(), idp_clean.browser_session("max"), acme.slug).status_code == 302
    assert OrganizationMember.objects.get(organization=acme, user=max_).is_admin is True


def test_an_id_token_from_another_issuer_is_refused(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("iris", email="iris@acme.test")
    idp_clean.control("tamper", claims={"iss": "https://evil.test"})
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("iris"), acme.slug))
    assert reason == "iss"
    assert "not issued by Acme SSO's issuer" in words
    assert not ProviderIdentity.objects.exists()


def test_an_id_token_signed_by_a_key_the_provider_does_not_publish_is_refused(
    client, idp_clean, acme
):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("kurt", email="kurt@acme.test")
    idp_clean.control("freeze_jwks")
    idp_clean.control("rotate_key")  # signs with a new key; the JWKS still lists the old one only
    reason, words = _refusal(sign_in(client, idp_clean.browser_session("kurt"), acme.slug))
    assert reason == "signature"
    assert "not signed by any of its published keys" in words
    assert not ProviderIdentity.objects.exists()


def test_a_discovery_document_naming_another_issuer_is_refused(client, idp_clean, acme):
    """The issuer setting must be exactly what the provider calls itself."""
    connect(
        idp_clean, acme, base_url=BASE, issuer=idp_clean.issuer.replace("127.0.0.1", "localhost")
    )
    reason, words = _refusal(client.get(f"/login/{acme.slug}/"))
    assert reason == "issuer"
    assert f"calls itself '{idp_clean.issuer}'" in words


def test_an_unreachable_provider_refuses_the_sign_in_and_ends_sessions_at_the_check(
    client, idp_clean, acme
):
    """Fail closed: no sign-in, and a session due for its check ends (the API token waits for a
    check that gets an answer)."""
    dead = f"http://127.0.0.1:{free_port()}/o"
    config = connect(idp_clean, acme, base_url=BASE, recheck_minutes=1)
    idp_clean.person("uma", email="uma@acme.test")
    assert sign_in(client, idp_clean.browser_session("uma"), acme.slug).status_code == 302
    user = ProviderIdentity.objects.get().user
    token = api_token_create(user=user).key
    config.issuer = dead
    config.save()
    reason, words = _refusal(Client().get(f"/login/{acme.slug}/"))
    assert reason == "unreachable"
    assert "cannot be reached just now" in words
    assert identities_recheck(now=timezone.now() + timedelta(seconds=61))["unreachable"] == 1
    ProviderIdentity.objects.update(checked_at=timezone.now() - timedelta(minutes=2))
    session = client.session
    session[SESSION_CHECK_AFTER] = 0
    session.save()
    response = client.get("/account/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "Acme SSO cannot be reached: sign in again later." in response.content.decode()
    assert not ProviderSession.objects.exists()
    assert Client().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_the_authorization_request_carries_pkce_s256_state_and_nonce(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    query = parse_qs(urlsplit(to_provider(client, acme.slug)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert len(query["nonce"][0]) >= 20
    assert len(query["state"][0]) >= 20
    assert query["response_type"] == ["code"]
    again = parse_qs(urlsplit(to_provider(Client(), acme.slug)).query)
    assert again["nonce"] != query["nonce"]
    assert again["code_challenge"] != query["code_challenge"]


def test_an_organization_called_sso_has_its_own_link(client, idp_clean, db):
    """The log-in page's search is not under /login/, so no slug is taken from organizations."""
    sso = make_organization("SSO")
    Organization.objects.filter(pk=sso.pk).update(slug="sso")  # what organization_create makes
    sso.refresh_from_db()
    connect(idp_clean, sso, base_url=BASE)
    assert to_provider(client, "sso").startswith(f"{idp_clean.issuer}/authorize/")


def test_signing_in_again_does_not_undo_an_admins_remove(client, idp_clean, acme):
    connect(idp_clean, acme, base_url=BASE)
    idp_clean.person("rex", email="rex@acme.test")
    assert sign_in(client, idp_clean.browser_session("rex"), acme.slug).status_code == 302
    rex = ProviderIdentity.objects.get().user
    make_organization("Elsewhere").members.create(user=rex)  # stays active: a member there
    member_remove(organization=acme, user_id=rex.pk, actor=acme.members.get(is_admin=True).user)
    reason, words = _refusal(sign_in(Client(), idp_clean.browser_session("rex"), acme.slug))
    assert reason == "removed"
    assert "An admin of Acme removed you from it" in words
    assert not OrganizationMember.objects.filter(organization=acme, user=rex).exists()
    member_add(organization=acme, user=rex)  # invited again
    assert sign_in(Client(), idp_clean.browser_session("rex"), acme.slug).status_code == 302
