"""Attempt every webhook delivery that is due: run it from cron or after a worker outage."""

from django.core.management.base import BaseCommand

from annotation.webhooks import webhook_deliver_due


class Command(BaseCommand):
    help = "Attempt every pending webhook delivery whose next attempt is due."

    def handle(self, *args, **options) -> None:
        count = webhook_deliver_due()
        self.stdout.write(f"Attempted {count} deliveries.")
