"""Secrets the server must use again, encrypted at rest.

A model key for live mode, a backend's auth header, a webhook's signing secret or an identity
provider's client secret cannot be stored as a hash: the server sends them. They are stored
encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package) so that a
database dump or a backup holds none of them in the clear.

Keys come from ``settings.FIELD_ENCRYPTION_KEYS``, newest first: the first key encrypts, every
key decrypts. To rotate: put a new key in front (``FIELD_ENCRYPTION_KEYS=new,old``), run
``manage.py rotate_secrets`` (which re-encrypts every stored secret with the new key), then drop
the old key. Without the setting, one key is derived from ``SECRET_KEY``, so a zero-setup install
still encrypts; production should set its own keys (and keep them apart from the database).
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

#: Stored values start with this, so a value written before encryption was turned on (or by a
#: migration that copied plain text) is recognised and read as it is until it is saved again.
PREFIX = "fernet:"


def key_from_secret(secret: str) -> str:
    """A Fernet key derived from a passphrase (``SECRET_KEY``), for installs that set no keys."""
    digest = hashlib.sha256(b"labelhub-field-encryption:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes)"
        ) from error


def fernet() -> MultiFernet:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ())
    if not keys:
        keys = (key_from_secret(settings.SECRET_KEY),)
    return _fernet(keys)


def encrypt(value: str) -> str:
    if not value:
        return value
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored or not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: was a key removed "
            "before `manage.py rotate_secrets` ran?"
        ) from error


def rotate(stored: str) -> str:
    """The stored value encrypted again with the newest key (plain text gets encrypted)."""
    if not stored:
        return stored
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    return PREFIX + fernet().rotate(stored.removeprefix(PREFIX).encode()).decode()


class EncryptedTextField(models.TextField):
    """A text field whose value is encrypted in the database and plain in Python.

    Not searchable nor comparable in SQL (each encryption is different): use it only for
    secrets the server reads back by the row's key.
    """

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if value.startswith(PREFIX):  # already encrypted (e.g. copied between rows)
            return value
        return encrypt(value)
