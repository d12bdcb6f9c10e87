"""Removal at the provider ends access: a session opened through a provider is checked with it
again every ``recheck_minutes`` (15 by default).

The check is the OAuth refresh grant with the session's refresh token, then the userinfo
endpoint. The provider saying no (the person was removed or disabled there) ends every session
they opened through it and their API token (see :func:`signin.services.access_end`). A session
with no refresh token (the provider issued none) simply ends at its check: signing in again goes
through the provider. A provider that cannot be reached ends the session too (fail closed).

Between checks the middleware reads only the session (no query); the check itself takes the
session's row lock, so two requests at once do not both spend the same refresh token.
"""

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction

from signin.models import ProviderSession
from signin.oidc import ProviderCheck, recheck
from signin.services import SESSION_CHECK_AFTER, SESSION_ID, access_end, session_checked


class ProviderSessionCheck:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        check_after = request.session.get(SESSION_CHECK_AFTER)
        if check_after is not None and time.time() >= check_after:
            if request.user.is_authenticated:
                self._check(request)
            else:
                request.session.pop(SESSION_CHECK_AFTER, None)
        return self.get_response(request)

    def _check(self, request) -> None:
        session = request.session
        ended = ""
        with transaction.atomic():
            row = (
                ProviderSession.objects.select_for_update()
                .select_related("identity__provider__organization", "identity__user")
                .filter(pk=session.get(SESSION_ID), session_key=session.session_key)
                .first()
            )
            if row is None or row.identity.user_id != request.user.pk:
                ended = "Your sign-in has ended: sign in again."
            elif (
                time.time()
                < row.checked_at.timestamp() + row.identity.provider.recheck_minutes * 60
            ):
                # Another request checked it a moment ago.
                session[SESSION_CHECK_AFTER] = (
                    row.checked_at.timestamp() + row.identity.provider.recheck_minutes * 60
                )
                return
            elif not row.refresh_token or not row.identity.provider.enabled:
                ended = "Your sign-in has ended: sign in again."
            else:
                provider = row.identity.provider
                status, refresh_token, claims = recheck(
                    provider=provider, refresh_token=row.refresh_token
                )
                if status == ProviderCheck.VALID:
                    session_checked(
                        row=row, session=session, refresh_token=refresh_token, claims=claims
                    )
                    return
                if status == ProviderCheck.REFUSED:
                    access_end(identity=row.identity, reason="refused at the recheck")
                    ended = f"{provider.display_name} no longer lets you in: you are signed out."
                else:
                    ended = f"{provider.display_name} cannot be reached: sign in again later."
            if row is not None:
                row.delete()
        logout(request)
        messages.warning(request, ended)
