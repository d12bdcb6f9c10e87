"""Staff's side of sign-in: verifying the email domains organizations claim."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from signin.models import DomainClaim
from signin.services import domain_claim_verify


@admin.register(DomainClaim)
class DomainClaimAdmin(admin.ModelAdmin):
    list_display = ["domain", "organization", "verified_at", "verified_by"]
    list_filter = ["verified_at"]
    search_fields = ["domain", "organization__name"]
    readonly_fields = ["organization", "domain", "verified_at", "verified_by", "created_at"]
    actions = ["verify"]

    def has_add_permission(self, request) -> bool:
        return False  # claims come from the organizations' allowed domains

    @admin.action(description="Verify: the organization owns these domains")
    def verify(self, request, queryset) -> None:
        for claim in queryset:
            try:
                domain_claim_verify(claim_id=claim.pk, by=request.user.get_username())
            except ValidationError as refusal:
                self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            else:
                self.message_user(request, f"{claim.domain} verified for {claim.organization}.")
