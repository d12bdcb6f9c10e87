"""``manage.py rotate_secrets``: encrypt every stored secret again with the newest key.

Put a new key in front of ``FIELD_ENCRYPTION_KEYS`` (``new,old``), run this, then drop the old
key (docs/security.md says the whole procedure). It reads each secret with any of the keys and
writes it with the first, in one transaction, so a failure changes nothing.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from labelhub.encryption import rotate_all


class Command(BaseCommand):
    help = "Encrypt every stored secret again with the newest of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = rotate_all()
        for field, changed in counts.items():
            self.stdout.write(f"{field}: {changed} re-encrypted")
