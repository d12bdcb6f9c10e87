"""Email addresses count only once proven (issue #24, items 1 and 2).

Before: a link invitation's sign-up took any address, so a stranger who signed up as
``ceo@gamma.example`` became Gamma's admin when staff later named that address, and the real
owner could not sign up; the form said which addresses and usernames had accounts.
"""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from labelhub.email_addresses import email_address_mark_verified, email_address_owner
from labelhub.models import EmailAddress, EmailVerification, OrganizationMember
from people.invitations import invitation_create_link
from tests.factories import PASSWORD, make_organization, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
CONFIRM = re.compile(r"https?://\S+/email/confirm/\S+/")
INVITE = re.compile(r"https?://\S+/invitations/\S+/")


@pytest.fixture(autouse=True)
def _emails_on_commit(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def _link_path(organization) -> str:
    admin = make_user(f"admin-{organization.slug}")
    OrganizationMember.objects.create(organization=organization, user=admin, is_admin=True)
    issued = invitation_create_link(organization=organization, actor=admin)
    return reverse("people:accept", args=[issued.token])


def _sign_up(client, path, *, username, email):
    return client.post(
        path,
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_stranger_with_an_invitation_link_cannot_take_a_future_organization(client):
    path = _link_path(make_organization("Alpha"))
    _sign_up(client, path, username="mallory", email="ceo@gamma.example")
    client.logout()

    out = io.StringIO()
    call_command("createorganization", "Gamma", "--admin", "ceo@gamma.example", stdout=out)

    assert "invited ceo@gamma.example" in out.getvalue()
    assert not OrganizationMember.objects.filter(
        organization__name="Gamma", user__username="mallory"
    ).exists()
    # the real owner reads the invitation and can sign up
    invitation = INVITE.search(mail.outbox[-1].body).group(0)
    mail.outbox.clear()
    owner = client.__class__()
    page = _sign_up(owner, _path(invitation), username="ceo", email="")
    assert page.status_code == 200
    confirm = CONFIRM.search(mail.outbox[-1].body).group(0)
    assert owner.get(_path(confirm)).status_code == 200  # a GET spends nothing
    landed = owner.post(_path(confirm))
    assert landed.status_code == 302
    member = OrganizationMember.objects.get(organization__name="Gamma")
    assert (member.user.username, member.is_admin) == ("ceo", True)
    assert email_address_owner(email="CEO@gamma.example") == member.user


def test_sign_up_answers_the_same_whether_the_address_or_the_username_exists(client):
    other = make_user("known", email="known@beta.example")
    email_address_mark_verified(user=other, email=other.email)
    path = _link_path(make_organization("Alpha"))

    def page(username, email):
        response = _sign_up(client.__class__(), path, username=username, email=email)
        text = re.sub(r'(value|nonce)="[^"]*"', "", response.content.decode())
        text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text).replace(email, "<email>")
        return response.status_code, text

    fresh = page("newcomer", "new@beta.example")
    assert fresh == page("someone", "known@beta.example")  # an address with an account
    assert fresh == page("KNOWN", "other@beta.example")  # a taken username
    assert fresh[0] == 200
    assert "has an account" not in fresh[1]
    assert "taken" not in fresh[1]
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "log in as known" in bodies["known@beta.example"]
    assert "username is taken" in bodies["other@beta.example"]
    assert CONFIRM.search(bodies["new@beta.example"])
    # nothing was made for the two refused ones, and the new account waits on its link
    assert User.objects.filter(username__in=["someone", "KNOWN"]).count() == 0
    assert not User.objects.get(username="newcomer").is_active


def test_sign_up_hashes_the_password_once_whether_the_address_or_the_username_exists(
    client, monkeypatch
):
    """The same work, so the same time: a password hash is most of what a sign-up costs (hundreds
    of milliseconds with PBKDF2), and only making the account did it. Hashes are counted, not
    timed (the suite's hasher is MD5, for speed)."""
    other = make_user("known", email="known@beta.example")
    email_address_mark_verified(user=other, email=other.email)
    path = _link_path(make_organization("Alpha"))
    hasher = get_hasher()
    hashed = []
    encode = type(hasher).encode
    monkeypatch.setattr(
        type(hasher), "encode", lambda self, *args: hashed.append(1) or encode(self, *args)
    )
    for username, email in (
        ("newcomer", "new@beta.example"),
        ("someone", "known@beta.example"),  # an address with an account
        ("KNOWN", "other@beta.example"),  # a taken username
    ):
        hashed.clear()
        assert _sign_up(client.__class__(), path, username=username, email=email).status_code == 200
        assert len(hashed) == 1, (username, email)


def test_a_confirmation_link_works_once_and_expires(client):
    path = _link_path(make_organization("Alpha"))
    _sign_up(client, path, username="ana", email="ana@example.com")
    confirm = _path(CONFIRM.search(mail.outbox[-1].body).group(0))
    verification = EmailVerification.objects.get()
    assert verification.secret_hash not in confirm  # only the hash is stored
    assert client.post(confirm).status_code == 302
    assert User.objects.get(username="ana").is_active
    assert client.post(confirm).status_code == 410  # single use

    user = make_user("ben", email="ben@example.com")
    client.force_login(user)
    client.post(reverse("account"), {"action": "verify-email"})
    confirm = _path(CONFIRM.search(mail.outbox[-1].body).group(0))
    EmailVerification.objects.filter(address__user=user).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    expired = client.post(confirm)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    assert not EmailAddress.objects.get(user=user).verified_at


def test_an_address_is_verified_for_one_person_only():
    first, second = make_user("a"), make_user("b")
    email_address_mark_verified(user=first, email="Same@Example.com")
    with pytest.raises(ValidationError, match="another account"):
        email_address_mark_verified(user=second, email="same@example.com")
    assert email_address_owner(email="SAME@example.com") == first


def test_the_account_page_confirms_the_persons_own_address(client):
    user = make_user("cy", email="cy@example.com")
    client.force_login(user)
    assert "not confirmed" in client.get(reverse("account")).content.decode()
    client.post(reverse("account"), {"action": "verify-email"})
    assert mail.outbox[-1].to == ["cy@example.com"]
    client.post(_path(CONFIRM.search(mail.outbox[-1].body).group(0)))
    page = client.get(reverse("account")).content.decode()
    assert 'data-testid="email-state">confirmed' in page
    assert email_address_owner(email="cy@example.com") == user
