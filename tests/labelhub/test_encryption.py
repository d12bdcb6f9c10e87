"""Secrets the server sends again are encrypted at rest, readable with any configured key."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from labelhub import encryption


def test_round_trip_and_nothing_in_the_clear():
    stored = encryption.encrypt("sk-live-123")
    assert stored.startswith(encryption.PREFIX)
    assert "sk-live-123" not in stored
    assert encryption.decrypt(stored) == "sk-live-123"
    assert encryption.encrypt("sk-live-123") != stored  # a fresh IV each time


def test_plain_text_from_before_is_read_as_it_is_and_empty_stays_empty():
    assert encryption.decrypt("legacy-plain") == "legacy-plain"
    assert encryption.encrypt("") == ""


def test_rotation_reencrypts_with_the_newest_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    stored = encryption.encrypt("whsec")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    rotated = encryption.rotate(stored)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert encryption.decrypt(rotated) == "whsec"
    with pytest.raises(ImproperlyConfigured, match="rotate_secrets"):
        encryption.decrypt(stored)


def test_a_bad_key_is_a_clear_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        encryption.encrypt("x")
