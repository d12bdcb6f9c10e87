"""People → Sign-in and ``/api/v1/organizations/{slug}/sign-in/``: the admins' settings, the secret
that never comes back, and passwords off."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from labelhub.models import ApiToken
from signin.models import DomainClaim, ProviderConfig, ProviderIdentity
from tests.factories import PASSWORD, make_organization, make_project, make_user
from tests.signin.conftest import CLIENT_SECRET, database_text

URL = "/api/v1/organizations/{}/sign-in/"
SETTINGS = {
    "display_name": "Acme SSO",
    "issuer": "https://login.acme.test/",
    "client_id": "labelhub-acme",
    "client_secret": CLIENT_SECRET,
    "allowed_domains": ["acme.test", "@Acme-Labs.test"],
    "scopes": "openid email profile groups",
    "role_rules": [{"group": "labeling-admins", "admin": True}],
    "recheck_minutes": 15,
}


@pytest.fixture
def admin_client(acme):
    client = Client()
    client.force_login(acme.members.get(is_admin=True).user)
    return client


def test_an_admin_configures_the_provider_through_the_api_and_never_reads_the_secret(
    admin_client, acme
):
    response = admin_client.put(URL.format(acme.slug), SETTINGS, content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["issuer"] == "https://login.acme.test"
    assert body["allowed_domains"] == ["acme.test", "acme-labs.test"]
    assert body["client_secret_set"] is True
    assert body["redirect_uri"] == f"http://testserver/login/{acme.slug}/callback/"
    assert "client_secret" not in body
    got = admin_client.get(URL.format(acme.slug))
    assert got.status_code == 200
    assert CLIENT_SECRET not in got.content.decode()
    changed = admin_client.patch(
        URL.format(acme.slug), {"passwords_off": True}, content_type="application/json"
    )
    assert changed.status_code == 400  # no admin has signed in through the provider yet
    ProviderIdentity.objects.create(
        provider=ProviderConfig.objects.get(),
        subject="admin-at-provider",
        user=acme.members.get(is_admin=True).user,
        email="acme-admin@acme.test",
    )
    changed = admin_client.patch(
        URL.format(acme.slug), {"passwords_off": True}, content_type="application/json"
    )
    assert changed.status_code == 200
    assert changed.json()["passwords_off"] is True
    assert ProviderConfig.objects.get().client_secret == CLIENT_SECRET  # kept


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"issuer": "not a url"}, "issuer", "is not a URL"),
        ({"allowed_domains": ["acme.test", "no domain"]}, "allowed_domains.2", "not a domain"),
        ({"scopes": "email profile"}, "scopes", "must include openid"),
        ({"recheck_minutes": 0}, "recheck_minutes", "from 1 to 1440"),
        (
            {"role_rules": [{"group": "x", "role": "boss", "project": 1}]},
            "role_rules.1.project",
            "",
        ),
        ({"role_rules": [{"group": "x"}]}, "role_rules.1", "makes an admin or gives"),
        ({"colour": "red"}, "colour", "Not a sign-in setting"),
    ],
)
def test_bad_settings_are_refused_by_field_and_change_nothing(
    admin_client, acme, change, field, words
):
    response = admin_client.put(
        URL.format(acme.slug), {**SETTINGS, **change}, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert words in " ".join(response.json()[field])
    assert not ProviderConfig.objects.exists()


@pytest.mark.parametrize(
    ("issuer", "words"),
    [
        ("http://93.184.216.34/realms/acme", "must use https"),
        ("https://127.0.0.1:8443/o", "127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/realms/acme", "10.1.2.3 is a private address"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::ffff:127.0.0.1]/o", "loopback"),
    ],
)
def test_an_issuer_inside_our_network_is_refused(admin_client, acme, settings, issuer, words):
    """The webhooks' address guard, unless SIGNIN_ALLOW_PRIVATE_ADDRESSES is on."""
    settings.SIGNIN_ALLOW_PRIVATE_ADDRESSES = False
    response = admin_client.put(
        URL.format(acme.slug), {**SETTINGS, "issuer": issuer}, content_type="application/json"
    )
    assert response.status_code == 400
    assert words in " ".join(response.json()["issuer"])
    assert not ProviderConfig.objects.exists()


def test_an_issuer_refused_after_it_was_saved_is_not_called(client, acme, settings):
    """Saved while private addresses were allowed, or resolving elsewhere since: signing in is
    refused before any request leaves."""
    settings.SIGNIN_ALLOW_PRIVATE_ADDRESSES = False
    ProviderConfig.objects.create(
        organization=acme,
        display_name="Acme SSO",
        issuer="http://127.0.0.1:9/o",
        client_id="labelhub",
        allowed_domains=["acme.test"],
    )
    response = client.get(f"/login/{acme.slug}/")
    assert response.status_code == 403
    assert 'data-reason="address"' in response.content.decode()
    assert "loopback address" in response.content.decode()


def test_a_domain_is_verified_for_one_organization_only(admin_client, acme):
    """Naming a domain claims nothing until staff verify it: another organization may name it
    meanwhile (first come is not first served), and none may once it is verified."""
    other = make_user("other-admin")
    beta = make_organization("Beta")
    beta.members.create(user=other, is_admin=True)
    client = Client()
    client.force_login(other)
    assert (
        client.put(URL.format(beta.slug), SETTINGS, content_type="application/json").status_code
        == 201
    )
    response = admin_client.put(URL.format(acme.slug), SETTINGS, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["verified_domains"] == []
    call_command("verify_domain", "acme.test", acme.slug, stdout=StringIO())
    assert admin_client.get(URL.format(acme.slug)).json()["verified_domains"] == ["acme.test"]
    with pytest.raises(CommandError, match=r"acme\.test is verified for Acme already"):
        call_command("verify_domain", "acme.test", beta.slug, stdout=StringIO())
    again = client.put(URL.format(beta.slug), SETTINGS, content_type="application/json")
    assert again.status_code == 400
    assert again.json()["allowed_domains"] == ["acme.test is verified for Acme."]


def test_a_public_mail_domain_is_refused(admin_client, acme):
    response = admin_client.put(
        URL.format(acme.slug),
        {**SETTINGS, "allowed_domains": ["acme.test", "Gmail.com"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "gmail.com is a public mail service" in response.json()["allowed_domains"][0]
    assert not ProviderConfig.objects.exists()


def test_the_log_in_page_offers_a_domain_only_once_it_is_verified(admin_client, acme):
    assert admin_client.put(URL.format(acme.slug), SETTINGS, content_type="application/json")
    page = f"/organizations/{acme.slug}/people/sign-in/"
    assert "waiting for verification" in admin_client.get(page).content.decode()
    unverified = Client().post("/sso/find/", {"email": "someone@acme.test"})
    assert unverified.status_code == 422
    assert "No organization signs in with addresses at acme.test" in unverified.content.decode()
    call_command("verify_domain", "acme.test", acme.slug, stdout=StringIO())
    verified = Client().post("/sso/find/", {"email": "someone@acme.test"})
    assert verified.status_code == 200
    assert "Sign in with Acme SSO" in verified.content.decode()
    assert "acme-labs.test</code>: waiting" in admin_client.get(page).content.decode()


def test_only_the_organizations_admins_reach_the_settings(acme):
    member = make_user("plain", organization=acme)
    client = Client()
    client.force_login(member)
    assert client.get(URL.format(acme.slug)).status_code == 404
    assert (
        client.put(URL.format(acme.slug), SETTINGS, content_type="application/json").status_code
        == 404
    )
    assert client.get(f"/organizations/{acme.slug}/people/sign-in/").status_code == 404


def test_the_settings_page_saves_and_never_shows_the_secret(admin_client, acme):
    project = make_project(organization=acme, name="Street signs")
    page = f"/organizations/{acme.slug}/people/sign-in/"
    assert (
        f'href="/organizations/{acme.slug}/people/sign-in/"'
        in admin_client.get(f"/organizations/{acme.slug}/people/").content.decode()
    )
    form = {
        "display_name": "Acme SSO",
        "issuer": "https://login.acme.test",
        "client_id": "labelhub-acme",
        "client_secret": CLIENT_SECRET,
        "scopes": "openid email profile groups",
        "allowed_domains": "acme.test, acme-labs.test",
        "groups_claim": "groups",
        "role_rules": "labeling-admins: admin\nvision: reviewer on Street signs",
        "recheck_minutes": "15",
        "enabled": "on",
    }
    response = admin_client.post(page, form)
    assert response.status_code == 302
    config = ProviderConfig.objects.get()
    assert config.role_rules == [
        {"group": "labeling-admins", "admin": True},
        {"group": "vision", "project": project.pk, "role": "reviewer"},
    ]
    html = admin_client.get(page).content.decode()
    assert CLIENT_SECRET not in html
    assert "Client secret: set (hidden)" in html
    assert "vision: reviewer on Street signs" in html
    # Saved again without a secret: the stored one stays.
    assert admin_client.post(page, {**form, "client_secret": ""}).status_code == 302
    assert ProviderConfig.objects.get().client_secret == CLIENT_SECRET
    bad = admin_client.post(page, {**form, "role_rules": "vision: reviewer on Nowhere"})
    assert bad.status_code == 422
    assert "Line 1: no project named &#x27;Nowhere&#x27;" in bad.content.decode()


def test_passwords_go_off_only_once_an_admin_has_signed_in_through_the_provider(admin_client, acme):
    refused = admin_client.put(
        URL.format(acme.slug), {**SETTINGS, "passwords_off": True}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert (
        "First sign in through the provider as an admin of Acme"
        in refused.json()["passwords_off"][0]
    )
    assert not ProviderConfig.objects.exists()
    assert admin_client.put(URL.format(acme.slug), SETTINGS, content_type="application/json")
    config = ProviderConfig.objects.get()
    member = make_user("mia", organization=acme, email="mia@acme.test")
    ProviderIdentity.objects.create(provider=config, subject="m", user=member, email=member.email)
    page = f"/organizations/{acme.slug}/people/sign-in/"
    form = {
        "display_name": "Acme SSO",
        "issuer": "https://login.acme.test",
        "client_id": "labelhub-acme",
        "scopes": "openid email profile groups",
        "allowed_domains": "acme.test",
        "groups_claim": "groups",
        "recheck_minutes": "15",
        "enabled": "on",
        "passwords_off": "on",
    }
    response = admin_client.post(page, form)
    assert response.status_code == 422  # a member, not an admin, has signed in with it
    assert "First sign in through the provider" in response.content.decode()
    assert ProviderConfig.objects.get().passwords_off is False
    acme.members.filter(user=member).update(is_admin=True)
    assert admin_client.post(page, form).status_code == 302
    assert ProviderConfig.objects.get().passwords_off is True


def test_the_client_secret_is_not_readable_in_a_database_dump(admin_client, acme):
    admin_client.put(URL.format(acme.slug), SETTINGS, content_type="application/json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM signin_providerconfig")
        [(stored,)] = cursor.fetchall()
    assert stored.startswith("fernet:")
    assert CLIENT_SECRET not in stored
    assert CLIENT_SECRET not in database_text()
    assert ProviderConfig.objects.get().client_secret == CLIENT_SECRET


@pytest.fixture
def passwords_off(acme):
    ProviderConfig.objects.create(
        organization=acme,
        display_name="Acme SSO",
        issuer="https://login.acme.test",
        client_id="labelhub-acme",
        allowed_domains=["acme.test"],
        passwords_off=True,
    )
    DomainClaim.objects.create(organization=acme, domain="acme.test", verified_at=timezone.now())
    return make_user("sam", organization=acme, email="sam@acme.test")


def test_with_passwords_off_the_log_in_page_refuses_a_password_with_words(passwords_off):
    client = Client()
    response = client.post("/accounts/login/", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 200
    assert "Acme signs in with Acme SSO, not with a password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_passwords_off_the_token_route_refuses_a_password(passwords_off):
    response = Client().post("/api/v1/auth/token/", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=passwords_off).exists()


def test_with_passwords_off_no_reset_mail_is_sent(passwords_off, acme):
    outsider = make_user("tia", email="tia@elsewhere.test")
    client = Client()
    client.post("/accounts/password_reset/", {"email": "sam@acme.test"})
    assert mail.outbox == []
    client.post("/accounts/password_reset/", {"email": outsider.email})
    assert [message.to for message in mail.outbox] == [["tia@elsewhere.test"]]


def test_passwords_stay_on_for_people_of_other_organizations(passwords_off):
    make_user("uma", email="uma@elsewhere.test")
    client = Client()
    response = client.post("/accounts/login/", {"username": "uma", "password": PASSWORD})
    assert response.status_code == 302
    token = Client().post("/api/v1/auth/token/", {"username": "uma", "password": PASSWORD})
    assert token.status_code == 200


def test_the_log_in_page_finds_the_organizations_provider_by_address(passwords_off, acme):
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/sso/find/"' in page
    response = client.post("/sso/find/", {"email": "someone@ACME.test"})
    assert response.status_code == 200
    assert f'href="/login/{acme.slug}/?login_hint=someone%40ACME.test"' in response.content.decode()
    assert "Sign in with Acme SSO" in response.content.decode()
    unknown = client.post("/sso/find/", {"email": "x@nowhere.test"})
    assert unknown.status_code == 422
    assert "No organization signs in with addresses at nowhere.test" in unknown.content.decode()
    assert get_user_model().objects.count() == 2
