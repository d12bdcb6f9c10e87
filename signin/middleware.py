"""Removal at the provider ends access: a session opened through a provider is checked with it
again every ``recheck_minutes`` (15 by default).

The check is :func:`signin.services.identity_recheck`: the OAuth refresh grant with the
identity's refresh token (the latest sign-in's, kept after logging out), then the userinfo
endpoint. ``manage.py recheck_identities`` (from cron) runs the same check for people with no
browser session, so their API token is checked too. The provider saying no (the person was
removed or disabled there) ends every session they opened through it and their API token (see
:func:`signin.services.access_end`). A session with nothing to check with (the provider issued
no refresh token, or it is turned off) simply ends at its check: signing in again goes through
the provider. A provider that cannot be reached ends the session too (fail closed); the API
token waits for the next check.

Between checks the middleware reads only the session (no query); a check someone made a moment
ago (another request, the cron job) is not repeated.
"""

import time
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth import logout

from signin.models import ProviderIdentity, ProviderSession
from signin.services import (
    SESSION_CHECK_AFTER,
    SESSION_ID,
    Recheck,
    check_due,
    identity_recheck,
)


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
        row = (
            ProviderSession.objects.select_related("identity__provider")
            .filter(pk=session.get(SESSION_ID), session_key=session.session_key)
            .first()
        )
        if row is None or row.identity.user_id != request.user.pk:
            ended = "Your sign-in has ended: sign in again."
        else:
            provider = row.identity.provider
            now = datetime.fromtimestamp(time.time(), tz=UTC)
            status = identity_recheck(identity_id=row.identity_id, now=now)
            if status == Recheck.VALID:
                identity = ProviderIdentity.objects.select_related("provider").get(
                    pk=row.identity_id
                )
                session[SESSION_CHECK_AFTER] = check_due(identity).timestamp()
                return
            if status == Recheck.REFUSED:
                ended = f"{provider.display_name} no longer lets you in: you are signed out."
            elif status == Recheck.NO_GRANT:
                ended = "Your sign-in has ended: sign in again."
            else:
                ended = f"{provider.display_name} cannot be reached: sign in again later."
            ProviderSession.objects.filter(pk=row.pk).delete()
        logout(request)
        messages.warning(request, ended)
