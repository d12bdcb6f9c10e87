"""Passwords off: an authentication backend that stops a password sign-in before Django's.

Listed in ``AUTHENTICATION_BACKENDS`` ahead of ``ModelBackend``: for a person of an organization
that turned passwords off, it raises ``PermissionDenied``, which ends ``authenticate()`` for every
caller at once (the log-in form, the API's ``POST /api/v1/auth/token/``, any other). For everyone
else it says nothing and Django's own backend decides. It never logs anyone in, so it has no
``get_user``.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from signin.services import passwords_off_for


class PasswordsOffBackend:
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is not None and passwords_off_for(user) is not None:
            raise PermissionDenied("This person signs in with their organization's provider.")
        return None
