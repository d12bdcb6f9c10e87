"""Email addresses a person has proven: verification links, and what binds people by address.

An address counts as a person's only once it is verified (:class:`EmailAddress.verified_at`):
they opened a link mailed to it (:func:`email_address_send_verification`), or an identity provider
vouched for it (:func:`email_address_mark_verified`). A link's secret is 32 random bytes; only its
SHA-256 is stored, it works once and for :data:`LINK_DAYS` days. One address is verified for one
person at most (a database constraint).

Signing up through an invitation (:func:`signup_request`) answers the same whatever is already
known: it makes an inactive account and mails a link that finishes it, or, when the address has an
account or the username is taken, mails the owner of the address what to do instead. Nobody
learns from the page whether an address or a username exists.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from labelhub.models import EmailAddress, EmailVerification, Invitation, Profile

LINK_DAYS = 3
TOKEN = re.compile(r"^(\d{1,18})\.([A-Za-z0-9_-]{20,100})$")


class VerificationUnusable(Exception):
    """The link cannot be used; ``str(error)`` says why, for the person holding it."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _url(base_url: str, name: str, *args) -> str:
    return base_url.rstrip("/") + reverse(name, args=args)


# --- reads ------------------------------------------------------------------------------------


def email_address_owner(*, email: str) -> AbstractBaseUser | None:
    """The active person who has verified ``email`` (case-insensitive), if any."""
    row = (
        EmailAddress.objects.filter(
            email__iexact=(email or "").strip(), verified_at__isnull=False, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    return row.user if row else None


def email_address_is_verified(*, user: AbstractBaseUser, email: str) -> bool:
    return EmailAddress.objects.filter(
        user=user, email__iexact=(email or "").strip(), verified_at__isnull=False
    ).exists()


def email_address_list(*, user: AbstractBaseUser) -> list[EmailAddress]:
    return list(EmailAddress.objects.filter(user=user))


# --- writes -----------------------------------------------------------------------------------


def _verified_elsewhere(*, user: AbstractBaseUser, email: str) -> bool:
    return (
        EmailAddress.objects.filter(email__iexact=email, verified_at__isnull=False)
        .exclude(user=user)
        .exists()
    )


@transaction.atomic
def email_address_mark_verified(*, user: AbstractBaseUser, email: str) -> EmailAddress:
    """Record that ``user`` owns ``email`` (proven by a link, or by an identity provider that
    marks the address verified). Refused with a ``ValidationError`` when another person has
    verified it; the person's account email is set to it when they had none."""
    email = (email or "").strip()
    if not email:
        raise ValidationError({"email": ["No email address to verify."]})
    if _verified_elsewhere(user=user, email=email):
        raise ValidationError({"email": [f"{email} belongs to another account."]})
    address = (
        EmailAddress.objects.select_for_update().filter(user=user, email__iexact=email).first()
    )
    if address is None:
        address = EmailAddress(user=user, email=email)
    if address.verified_at is None:
        address.verified_at = timezone.now()
    try:
        with transaction.atomic():
            address.save()
    except IntegrityError:  # verified by another person a moment ago
        raise ValidationError({"email": [f"{email} belongs to another account."]}) from None
    if not user.email:
        get_user_model().objects.filter(pk=user.pk).update(email=email)
        user.email = email
    return address


def _issue(address: EmailAddress, invitation: Invitation | None = None) -> str:
    secret = secrets.token_urlsafe(32)
    verification = EmailVerification.objects.create(
        address=address,
        secret_hash=_hash(secret),
        invitation=invitation,
        expires_at=timezone.now() + timedelta(days=LINK_DAYS),
    )
    return f"{verification.pk}.{secret}"


def _mail(to: str, subject: str, body: str) -> None:
    transaction.on_commit(
        lambda: send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[to],
        )
    )


@transaction.atomic
def email_address_send_verification(
    *, user: AbstractBaseUser, email: str, base_url: str
) -> EmailAddress:
    """Mail ``email`` a link that proves it is ``user``'s (the address is added unverified)."""
    email = (email or "").strip()
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=email)
    if address.verified_at is not None:
        return address
    url = _url(base_url, "people:email-verify", _issue(address))
    _mail(
        email,
        "Confirm your email address for LabelHub",
        f"Someone (we hope you) asked to confirm that {email} belongs to the LabelHub account "
        f"{user.get_username()}. Open this link to confirm it:\n\n    {url}\n\n"
        f"It works once, for {LINK_DAYS} days. If it was not you, ignore this email.\n",
    )
    return address


@dataclass(frozen=True)
class Verified:
    address: EmailAddress
    invitation: Invitation | None  # the invitation a sign-up was waiting on


def verification_find(*, token: str, lock: bool = False) -> EmailVerification:
    """The usable verification of ``token``; else :class:`VerificationUnusable` saying why."""
    match = TOKEN.match(token or "")
    rows = EmailVerification.objects.select_related("address", "address__user", "invitation")
    if lock:
        rows = rows.select_for_update(of=("self",))
    verification = rows.filter(pk=int(match.group(1))).first() if match else None
    given = _hash(match.group(2)) if match else ""
    if verification is None or not hmac.compare_digest(verification.secret_hash, given):
        raise VerificationUnusable(
            "This confirmation link is not valid. Check that the whole link was copied."
        )
    if verification.used_at is not None:
        raise VerificationUnusable("This confirmation link has been used already. Log in.")
    if verification.expires_at <= timezone.now():
        raise VerificationUnusable(
            "This confirmation link has expired. Log in and ask for a new one on your account "
            "page, or open your invitation again."
        )
    return verification


@transaction.atomic
def email_address_verify(*, token: str) -> Verified:
    """Use a link: the address becomes verified and, for a sign-up, the account active."""
    verification = verification_find(token=token, lock=True)
    address = verification.address
    user = address.user
    verification.used_at = timezone.now()
    verification.save(update_fields=["used_at"])
    try:
        email_address_mark_verified(user=user, email=address.email)
    except ValidationError:
        raise VerificationUnusable(
            f"{address.email} has been confirmed for another account meanwhile. Log in with it."
        ) from None
    if not user.is_active and verification.invitation_id is not None:
        get_user_model().objects.filter(pk=user.pk).update(is_active=True)
        user.is_active = True
    address.refresh_from_db()
    return Verified(address=address, invitation=verification.invitation)


@transaction.atomic
def signup_request(
    *,
    invitation: Invitation,
    invitation_url: str,
    username: str,
    password: str,
    email: str,
    full_name: str,
    base_url: str,
) -> None:
    """A new person through an invitation (the caller has validated the form and the password).

    Whatever the outcome, the caller shows the same page ("we sent you an email"); the mail says
    what happens next: finish the sign-up, or log in (the address has an account), or choose
    another username. The account is made inactive and becomes active with its link. Every
    branch hashes the password once, as making the account does (the hash is most of the time
    a sign-up takes): the response time does not tell that an address or a username exists
    either.
    """
    User = get_user_model()
    address = (invitation.email or email or "").strip()
    if not address:
        raise ValidationError({"email": ["Give your email address."]})
    organization = invitation.organization.name
    owner = email_address_owner(email=address) or (
        User.objects.filter(email__iexact=address, is_active=True).first()
    )
    if owner is not None:
        _mail(
            address,
            f"Your invitation to {organization} on LabelHub",
            f"Someone (we hope you) tried to make a new LabelHub account with {address} to join "
            f"{organization}. This address has an account already: log in as "
            f"{owner.get_username()}, then open the invitation again to join:\n\n"
            f"    {invitation_url}\n\n"
            f"Forgot the password? Reset it here: {_url(base_url, 'password_reset')}\n",
        )
        make_password(password)  # the same time as a new account's (see above)
        return
    if User.objects.filter(username__iexact=username).exists():
        _mail(
            address,
            f"Your invitation to {organization} on LabelHub",
            f"Someone (we hope you) tried to make the LabelHub account {username!r} with this "
            f"address to join {organization}. That username is taken: open the invitation again "
            f"and choose another one:\n\n    {invitation_url}\n",
        )
        make_password(password)
        return
    full_name = " ".join((full_name or "").split())
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(
        username=username,
        password=password,
        email=address,
        first_name=first[:150],
        last_name=last[:150],
        is_active=False,
    )
    if full_name:  # the name given at sign-up is the one the profile shows the organization
        Profile.objects.create(user=user, display_name=full_name[:150])
    pending = EmailAddress.objects.create(user=user, email=address)
    url = _url(base_url, "people:email-verify", _issue(pending, invitation))
    _mail(
        address,
        f"Finish joining {organization} on LabelHub",
        f"Open this link to confirm {address} and finish making your LabelHub account "
        f"{username!r} in {organization}:\n\n    {url}\n\n"
        f"It works once, for {LINK_DAYS} days. If you did not ask for an account, ignore this "
        "email: nothing happens without the link.\n",
    )
