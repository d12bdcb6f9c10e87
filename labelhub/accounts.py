"""A person's own account: the API tokens scripts use.

A token is a random key sent as ``Authorization: Token <key>``. Only a SHA-256 of the key is
stored (:class:`labelhub.models.ApiToken`), so a database dump or a backup lets nobody call the
API; the person sees the key once, when it is made, and afterwards only its first characters.

Two ways make one: the account page (:func:`api_token_create`, which replaces every token the
person had) and ``POST /api/v1/auth/token/`` with a username and password
(:func:`api_token_issue`, a new token beside the others, so that two scripts logging in do not end
each other's tokens; the oldest beyond :data:`MAX_TOKENS` stop working).
"""

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from labelhub.audit import audit_record
from labelhub.models import ApiToken, AuditAction

MAX_TOKENS = 20
PREFIX_LENGTH = 6


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _make(user: AbstractBaseUser) -> ApiToken:
    key = secrets.token_hex(20)  # 40 characters, as DRF's tokens were
    token = ApiToken.objects.create(user=user, key_hash=token_hash(key), prefix=key[:PREFIX_LENGTH])
    token.key = key  # in memory only, for the caller to show once
    return token


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> ApiToken:
    """A new token for ``user`` (its ``key`` is set on the returned object, and stored nowhere);
    every previous one stops working at once."""
    ApiToken.objects.filter(user=user).delete()
    token = _make(user)
    audit_record(
        actor=user, action=AuditAction.TOKEN_CREATED, summary=f"{user} made a new API token"
    )
    return token


@transaction.atomic
def api_token_issue(*, user: AbstractBaseUser) -> ApiToken:
    """One more token for ``user`` (the token route); the oldest beyond ``MAX_TOKENS`` end."""
    token = _make(user)
    kept = ApiToken.objects.filter(user=user).values_list("pk", flat=True)[:MAX_TOKENS]
    ApiToken.objects.filter(user=user).exclude(pk__in=list(kept)).delete()
    audit_record(
        actor=user,
        action=AuditAction.TOKEN_CREATED,
        summary=f"{user} signed in for an API token",
    )
    return token


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    """End every token of ``user``."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            actor=user, action=AuditAction.TOKEN_REVOKED, summary=f"{user} revoked the API token"
        )
    return bool(deleted)


def api_token_for(*, user: AbstractBaseUser) -> ApiToken | None:
    """The person's newest token (its prefix and date), if any."""
    return ApiToken.objects.filter(user=user).first()
