"""Token authentication for the queue's hot endpoints, in one hand-written query.

The same rule as DRF's ``TokenAuthentication`` (an unknown token or an inactive user is refused
with 401), without the ORM's query-building cost on every call of "next task" and "submit".
The user comes back with ``id``, ``username`` and ``is_active`` loaded; other fields load on
first use, as deferred fields do.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

LOADED = ("id", "username", "is_active")


class QueueTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        User = get_user_model()
        fields = [User._meta.get_field(name) for name in LOADED]
        columns = ", ".join(f"u.{connection.ops.quote_name(f.column)}" for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {Token._meta.db_table} t "  # noqa: S608 - from _meta
                f"JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = t.user_id "
                "WHERE t.key = %s",
                [key],
            )
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = User.from_db(connection.alias, [f.attname for f in fields], list(row))
        user.is_active = bool(user.is_active)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, Token(key=key, user=user))
