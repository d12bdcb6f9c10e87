"""A person's own account: the API token scripts use.

A token is shown in full once, when it is made; afterwards only its first characters, so that a
glance over someone's shoulder or a screenshot of the page does not leak it.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token

from labelhub.audit import audit_record
from labelhub.models import AuditAction


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> Token:
    """A new token for ``user``; any previous one stops working at once."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit_record(
        actor=user, action=AuditAction.TOKEN_CREATED, summary=f"{user} made a new API token"
    )
    return token


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            actor=user, action=AuditAction.TOKEN_REVOKED, summary=f"{user} revoked the API token"
        )
    return bool(deleted)


def api_token_for(*, user: AbstractBaseUser) -> Token | None:
    return Token.objects.filter(user=user).first()
