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
from django.db.models import Value

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


def rotate_all() -> dict[str, int]:
    """Every stored secret encrypted again with the newest key; rows rewritten per field."""
    counts = {}
    for model, field in encrypted_fields():
        changed = 0
        rows = model._base_manager.exclude(**{field: ""})
        for pk, value in rows.values_list("pk", field).iterator():
            changed += model._base_manager.filter(pk=pk).update(**{field: Value(encrypt(value))})
        counts[f"{model._meta.label}.{field}"] = changed
    return counts


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

    def value_to_string(self, obj):
        """Serialised (``dumpdata``, fixtures) encrypted, as stored: a dump made through Django
        holds no secret either, and ``loaddata`` reads it back as it is."""
        value = self.value_from_object(obj)
        return encrypt(value) if value else value


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) stored with :class:`EncryptedTextField`."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def encrypt_existing(apps, app_label: str, model_name: str, field: str) -> int:
    """Encrypt the values of ``field`` stored in plain text (for data migrations, ``apps`` being
    the migration's state); the number of rows changed. Values are written as given (``Value``),
    whatever the field class of the state."""
    model = apps.get_model(app_label, model_name)
    changed = 0
    rows = model.objects.exclude(**{field: ""}).exclude(**{f"{field}__startswith": PREFIX})
    for pk, value in rows.values_list("pk", field).iterator():
        changed += model.objects.filter(pk=pk).update(**{field: Value(encrypt(value))})
    return changed


def decrypt_existing(apps, app_label: str, model_name: str, field: str) -> int:
    """The way back (a migration's reverse): the values in plain text again."""
    model = apps.get_model(app_label, model_name)
    changed = 0
    rows = model.objects.filter(**{f"{field}__startswith": PREFIX})
    for pk, value in rows.values_list("pk", field).iterator():
        changed += model.objects.filter(pk=pk).update(**{field: Value(decrypt(value))})
    return changed
