"""``manage.py verify_domain <domain> <org-slug>``: staff confirm that an organization owns an
email domain it named (checked out of band, e.g. a DNS TXT record it was asked to publish); the
log-in page then sends that domain's people to the organization's provider."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from signin.models import DomainClaim
from signin.services import domain_claim_verify


class Command(BaseCommand):
    help = "Verify an email domain an organization claims for its sign-in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("domain")
        parser.add_argument("organization", help="the organization's slug")

    def handle(self, *args, domain: str, organization: str, **options) -> None:
        claim = DomainClaim.objects.filter(
            domain=domain.strip().lower(), organization__slug=organization
        ).first()
        if claim is None:
            raise CommandError(f"{organization} has not named {domain} among its allowed domains.")
        try:
            domain_claim_verify(claim_id=claim.pk, by="manage.py verify_domain")
        except ValidationError as refusal:
            raise CommandError(" ".join(refusal.messages)) from None
        self.stdout.write(f"{claim.domain} verified for {claim.organization.name}.")
