"""Signing in against a real OpenID provider: what is accepted and each refusal, with its words."""

import pytest
from django.contrib.auth import get_user_model

from labelhub.models import OrganizationMember
from signin.models import ProviderIdentity
from tests.signin.conftest import connect
from tests.signin.flow import provider_answer, sign_in, to_provider

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
    assert client.get("/").wsgi_request.user == user
