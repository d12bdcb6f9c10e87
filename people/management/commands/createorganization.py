"""``manage.py createorganization NAME --admin EMAIL``: a customer's organization and its admin.

A person who has proven that email address is theirs (an active account that confirmed it) becomes
the admin at once; anyone else, an account that has the address but never confirmed it included,
gets an invitation by email (its link is printed too, for when no email can be sent), valid 14
days.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from people.invitations import invitation_url, organization_create_with_admin


class Command(BaseCommand):
    help = (
        "Create an organization with its first admin (the account that verified the address, "
        "or else an invitation)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The organization's name, e.g. 'Acme AI'.")
        parser.add_argument("--admin", required=True, help="The admin's email address.")
        parser.add_argument("--slug", default="", help="Its slug in URLs (made from the name).")
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where LabelHub is served, for the invitation link.",
        )

    def handle(self, *args, name: str, admin: str, slug: str, base_url: str, **options) -> None:
        try:
            organization, issued = organization_create_with_admin(
                name=name, admin_email=admin, actor=None, base_url=base_url, slug=slug
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{key}: {' '.join(m)}" for key, m in error.message_dict.items())
            ) from None
        if issued is None:
            admin_user = organization.members.select_related("user").get().user
            self.stdout.write(
                f"Created {organization.name} ({organization.slug}); "
                f"{admin_user.get_username()} is its admin."
            )
            return
        url = invitation_url(base_url=base_url, token=issued.token)
        self.stdout.write(
            f"Created {organization.name} ({organization.slug}) and invited {admin.strip()} "
            f"as its admin (the email is on its way):\n  {url}"
        )
