"""In Chromium: an admin connects the organization's provider on *People → Sign-in*, then a new
person signs in with their work address through the real provider and lands on LabelHub."""

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page, expect

from labelhub.models import OrganizationMember
from signin.models import ProviderConfig
from tests.signin.conftest import CLIENT_ID, CLIENT_SECRET
from tests.signin.idp import IDP_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _as(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def test_an_admin_connects_the_provider_and_a_new_person_signs_in_with_it(
    live_server, page: Page, browser, idp_clean, acme, console_errors
):
    admin = acme.members.get(is_admin=True).user
    _as(page, live_server, admin)
    page.goto(f"{live_server.url}/organizations/{acme.slug}/people/")
    page.get_by_role("link", name="Sign-in").click()
    callback = page.get_by_test_id("callback-url").inner_text()
    assert callback == f"{live_server.url}/login/{acme.slug}/callback/"
    idp_clean.application(CLIENT_ID, CLIENT_SECRET, [callback])  # the admin, at the provider
    page.get_by_label("Provider's name").fill("Acme SSO")
    page.get_by_label("Issuer URL").fill(idp_clean.issuer)
    page.get_by_label("Client ID").fill(CLIENT_ID)
    page.get_by_label("Client secret").fill(CLIENT_SECRET)
    page.get_by_label("Scopes").fill("openid email profile groups")
    page.get_by_label("Allowed email domains").fill("acme.test")
    page.get_by_label("Role rules").fill("labeling-admins: admin")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("secret-state")).to_have_text("Client secret: set (hidden).")
    assert CLIENT_SECRET not in page.content()
    assert ProviderConfig.objects.get().client_secret == CLIENT_SECRET
    expect(page.get_by_test_id("domain-acme.test")).to_contain_text("waiting for verification")
    call_command("verify_domain", "acme.test", acme.slug, stdout=StringIO())  # LabelHub's staff

    idp_clean.person(
        "wendy", email="wendy@acme.test", first_name="Wendy", groups=["labeling-admins"]
    )
    context = browser.new_context()
    console_errors.watch(context)
    person = context.new_page()
    person.goto(f"{live_server.url}/accounts/login/")
    person.get_by_label("Work email").fill("wendy@acme.test")
    person.get_by_role("button", name="Continue with your organization's sign-in").click()
    person.get_by_role("link", name="Sign in with Acme SSO").click()
    person.wait_for_url(f"{idp_clean.url}/accounts/login/**")
    person.locator("#idp-username").fill("wendy")
    person.locator("#idp-password").fill(IDP_PASSWORD)
    person.locator("#idp-submit").click()
    person.wait_for_url(f"{live_server.url}/")
    expect(person.get_by_test_id("current-user")).to_have_text("wendy")
    user = get_user_model().objects.get(email="wendy@acme.test")
    assert OrganizationMember.objects.get(organization=acme, user=user).is_admin is True
    context.close()


def test_a_refused_sign_in_shows_its_reason_in_the_browser(
    live_server, page: Page, idp_clean, acme, console_errors
):
    console_errors.expect(r"status of 403")  # the refusal page's own status
    callback = f"{live_server.url}/login/{acme.slug}/callback/"
    idp_clean.application(CLIENT_ID, CLIENT_SECRET, [callback])
    ProviderConfig.objects.create(
        organization=acme,
        display_name="Acme SSO",
        issuer=idp_clean.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_domains=["acme.test"],
    )
    idp_clean.person("xena", email="xena@elsewhere.test")
    page.goto(f"{live_server.url}/login/{acme.slug}/")
    page.locator("#idp-username").fill("xena")
    page.locator("#idp-password").fill(IDP_PASSWORD)
    page.locator("#idp-submit").click()
    expect(page.get_by_test_id("refusal")).to_contain_text(
        "Addresses at elsewhere.test do not sign in to Acme"
    )
    assert not get_user_model().objects.filter(email="xena@elsewhere.test").exists()
