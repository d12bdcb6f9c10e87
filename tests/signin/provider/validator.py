"""The provider's claims: the person's address (and whether it is verified), name and groups;
plus the claims a test asked to get wrong on purpose (see :mod:`.control`)."""

from oauth2_provider.oauth2_validators import OAuth2Validator

#: Django groups with this name mark an address as not verified; they are not in ``groups``.
UNVERIFIED = "email-unverified"
#: Claims the next ID tokens carry instead of the right ones ({"aud": ..., "exp": ...}).
TAMPER: dict = {}


class Validator(OAuth2Validator):
    oidc_claim_scope = {
        "sub": "openid",
        "email": "email",
        "email_verified": "email",
        "name": "profile",
        "given_name": "profile",
        "family_name": "profile",
        "groups": "groups",
    }

    def get_additional_claims(self, request):
        user = request.user
        groups = sorted(user.groups.values_list("name", flat=True))
        return {
            "email": user.email,
            "email_verified": UNVERIFIED not in groups,
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": [group for group in groups if group != UNVERIFIED],
        }

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """A disabled person's grants stop, as at the common providers."""
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        return valid and request.user.is_active

    def validate_bearer_token(self, token, scopes, request):
        valid = super().validate_bearer_token(token, scopes, request)
        return valid and request.user.is_active

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        claims.update(TAMPER)
        return claims, expiration
