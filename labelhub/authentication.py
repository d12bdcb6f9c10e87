"""``Authorization: Token <key>`` for the API, against hashed tokens, in one query.

The header and the answers are DRF's ``TokenAuthentication``'s (a public contract: customers'
scripts send it): an unknown token or an inactive user is refused with 401. The key is hashed
(SHA-256) and looked up by its hash, so the table holds no usable key. The user comes back with
``id``, ``username`` and ``is_active`` loaded; other fields load on first use, as deferred
fields do. It is the hot path of "next task" and "submit", hence the hand-written query.
"""

from typing import Protocol

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from labelhub.accounts import token_hash
from labelhub.models import ApiToken

LOADED = ("id", "username", "is_active")


class AlsoRead(Protocol):
    """What a view reads in the token's statement besides the user, saving a round trip on a
    hot route (a view names it as ``token_also_reads``)."""

    def sql(self, request) -> tuple[str, str, list]:
        """Columns (each after a comma), LEFT JOINs on ``u`` (the user), and their params."""

    def loaded(self, request, user, values: tuple) -> None:
        """The values of those columns, once the user is known to be active."""


class HashedTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        view = (getattr(request, "parser_context", None) or {}).get("view")
        self.also: AlsoRead | None = getattr(view, "token_also_reads", None)
        self.request = request
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        if not isinstance(key, str) or not key.isascii() or len(key) > 200:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        User = get_user_model()
        fields = [User._meta.get_field(name) for name in LOADED]
        columns = ", ".join(f"u.{connection.ops.quote_name(f.column)}" for f in fields)
        also = getattr(self, "also", None)
        also_columns, also_joins, also_params = also.sql(self.request) if also else ("", "", [])
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.id, {columns}{also_columns} FROM {ApiToken._meta.db_table} t "  # noqa: S608
                f"JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = t.user_id"
                f"{also_joins} WHERE t.key_hash = %s",
                [*also_params, token_hash(key)],
            )
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        loaded = 1 + len(fields)
        user = User.from_db(connection.alias, [f.attname for f in fields], list(row[1:loaded]))
        user.is_active = bool(user.is_active)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if also:
            also.loaded(self.request, user, row[loaded:])
        return (user, ApiToken(pk=row[0], user=user, prefix=key[:6]))
