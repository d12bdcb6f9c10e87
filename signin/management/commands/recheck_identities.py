"""``manage.py recheck_identities``: ask each organization's provider again about the people it
vouched for, every ``recheck_minutes``, browser session or not.

Run it from cron at least as often as the shortest interval (every minute or five), like the
other housekeeping commands. Someone removed or disabled at the provider loses their sessions and
their API token (401) at the first run after their check falls due.
"""

import time

from django.core.management.base import BaseCommand

from signin.services import identities_recheck


class Command(BaseCommand):
    help = "Re-check with the identity providers every person whose check is due."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        counts = identities_recheck()
        self.stdout.write(
            f"checked {sum(counts.values())} in {time.monotonic() - started:.2f} s: "
            + ", ".join(f"{status} {n}" for status, n in counts.items())
        )
