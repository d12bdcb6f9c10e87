"""The OpenID Connect protocol, by Authlib: one client per organization's provider.

Authlib does the protocol: the discovery document, the authorization request with ``state``,
``nonce`` and PKCE (S256), the code exchange, the ID token's signature against the provider's
JWKS (fetched again when a token names a key it does not hold: key rotation) and its claims. What
is ours: the discovery document and the JWKS are kept in the cache for an hour (a sign-in costs
no extra round trips), the claims we insist on (``iss`` equal to the configured issuer, ``aud``
naming our client id, ``exp``, ``sub``), and the words a person reads when a sign-in is refused.
"""

import logging
from dataclasses import dataclass

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseRedirect
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError

from annotation.webhooks import DeliveryRefused, destination_check
from signin.models import ProviderConfig

log = logging.getLogger(__name__)

METADATA_CACHE_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10
#: Clock difference tolerated between the provider and us when checking ``exp`` and ``iat``.
LEEWAY_SECONDS = 60


class SignInRefused(Exception):
    """A sign-in that must not go on; ``message`` is for the person, in words."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def allow_private() -> bool:
    """``SIGNIN_ALLOW_PRIVATE_ADDRESSES``: a provider on loopback, private or link-local
    addresses (on-premise, the tests) may be used."""
    return bool(getattr(settings, "SIGNIN_ALLOW_PRIVATE_ADDRESSES", False))


def provider_url_check(url: str) -> None:
    """Refuse a provider URL that reaches into our own network, with the webhooks' guard
    (:func:`annotation.webhooks.destination_check`): ``DeliveryRefused`` says why."""
    destination_check(url, allow_private=allow_private(), called="sign-in requests")


#: The discovery document's URLs the server itself calls (the authorization endpoint is the
#: browser's).
SERVER_CALLED = ("jwks_uri", "token_endpoint", "userinfo_endpoint")


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _metadata_key(provider: ProviderConfig) -> str:
    return f"signin:metadata:{provider.pk}:{provider.issuer}"


class ProviderClient(DjangoOAuth2App):
    """Authlib's Django client for one organization, its metadata and keys kept in the cache."""

    def __init__(self, provider: ProviderConfig) -> None:
        self.provider = provider
        cached = cache.get(_metadata_key(provider)) or {}
        super().__init__(
            framework=DjangoIntegration(f"signin{provider.pk}"),
            name=f"signin{provider.pk}",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=discovery_url(provider.issuer),
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "timeout": HTTP_TIMEOUT_SECONDS,
                # The access token is used once, at once. Authlib's default (refresh it when
                # less than 60 s remain) would spend the refresh token a second time during the
                # check and keep the rotated one from us (seen with short-lived access tokens).
                "leeway": 0,
            },
            **cached,
        )

    def load_server_metadata(self) -> dict:
        fresh = "_loaded_at" not in self.server_metadata
        if fresh:
            self._check_address(discovery_url(self.provider.issuer))
        metadata = super().load_server_metadata()
        if fresh:
            for key in SERVER_CALLED:
                if metadata.get(key):
                    self._check_address(metadata[key])
            if metadata.get("issuer", "").rstrip("/") != self.provider.issuer.rstrip("/"):
                raise SignInRefused(
                    f"The provider at {self.provider.issuer} calls itself "
                    f"{metadata.get('issuer')!r}: the issuer setting must be exactly its issuer.",
                    reason="issuer",
                )
            self._remember()
        return metadata

    def _check_address(self, url: str) -> None:
        try:
            provider_url_check(url)
        except DeliveryRefused as refused:
            log.warning("identity provider URL %s refused: %s", url, refused)
            raise SignInRefused(
                f"{self.provider.display_name}'s address is refused: {refused}", reason="address"
            ) from None

    def fetch_jwk_set(self, force: bool = False) -> dict:
        had = self.server_metadata.get("jwks")
        jwks = super().fetch_jwk_set(force=force)
        if jwks is not had:
            self._remember()
        return jwks

    def _remember(self) -> None:
        cache.set(_metadata_key(self.provider), dict(self.server_metadata), METADATA_CACHE_SECONDS)

    def claims_options(self) -> dict:
        return {
            "iss": {"essential": True, "values": [self.load_server_metadata()["issuer"]]},
            "aud": {"essential": True, "values": [self.provider.client_id]},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }


def forget_metadata(provider: ProviderConfig) -> None:
    """Drop the cached discovery document and keys (the issuer changed)."""
    cache.delete(_metadata_key(provider))


def scope_requested(provider: ProviderConfig, metadata: dict) -> str:
    """The configured scopes, with ``offline_access`` added when the provider supports it: its
    refresh token then outlives the person's session at the provider (Keycloak's, Okta's), so a
    person idle in the browser is still checked, and kept, rather than cut off."""
    scopes = provider.scopes.split()
    if "offline_access" in metadata.get("scopes_supported", []) and "offline_access" not in scopes:
        scopes.append("offline_access")
    return " ".join(scopes)


def authorize_redirect(
    *, provider: ProviderConfig, request: HttpRequest, redirect_uri: str, login_hint: str = ""
) -> HttpResponseRedirect:
    """Send the browser to the provider; ``state``, ``nonce`` and the PKCE verifier wait in the
    session for the person's return."""
    client = ProviderClient(provider)
    extra = {"login_hint": login_hint} if login_hint else {}
    try:
        scope = scope_requested(provider, client.load_server_metadata())
        return client.authorize_redirect(request, redirect_uri, scope=scope, **extra)
    except (requests.RequestException, ValueError) as error:
        log.warning("identity provider %s unreachable: %s", provider.issuer, error)
        raise SignInRefused(
            f"{provider.display_name} cannot be reached just now; try again in a moment.",
            reason="unreachable",
        ) from error


@dataclass(frozen=True)
class ProviderAnswer:
    """What the provider vouched for, once every check passed."""

    claims: dict
    refresh_token: str


def authorize_finish(*, provider: ProviderConfig, request: HttpRequest) -> ProviderAnswer:
    """The person is back from the provider: check ``state``, exchange the code (with the PKCE
    verifier), check the ID token (signature, ``iss``, ``aud``, ``exp``, ``nonce``) and read the
    claims (the ID token's, completed by the userinfo endpoint)."""
    client = ProviderClient(provider)
    name = provider.display_name
    try:
        token = client.authorize_access_token(
            request, claims_options=client.claims_options(), leeway=LEEWAY_SECONDS
        )
    except OAuthError as error:
        if error.error == "mismatching_state":
            raise SignInRefused(
                "This sign-in link was already used or has expired: start again from the "
                "log-in page.",
                reason="state",
            ) from error
        if error.error == "access_denied":
            raise SignInRefused(f"{name} did not let you in.", reason="denied") from error
        raise SignInRefused(
            f"{name} refused the sign-in ({error.error}).", reason="provider"
        ) from error
    except ExpiredTokenError as error:
        raise SignInRefused(
            f"{name} answered with an ID token that has already expired (is a clock wrong?).",
            reason="expired",
        ) from error
    except ClaimError as error:
        raise SignInRefused(_claim_message(name, error.claim), reason=error.claim) from error
    except JoseError as error:
        raise SignInRefused(
            f"{name}'s ID token is not signed by any of its published keys.", reason="signature"
        ) from error
    except requests.RequestException as error:
        raise SignInRefused(
            f"{name} cannot be reached just now; try again in a moment.", reason="unreachable"
        ) from error
    if "userinfo" not in token:
        raise SignInRefused(
            f"{name} sent no ID token: the scopes must include openid.", reason="id_token"
        )
    claims = dict(token["userinfo"])
    if provider.groups_claim not in claims or "email" not in claims:
        try:
            extra = client.userinfo(token=token)
        except (OAuthError, requests.RequestException) as error:
            raise SignInRefused(
                f"{name} did not answer the userinfo request.", reason="userinfo"
            ) from error
        if extra.get("sub") != claims["sub"]:
            raise SignInRefused(f"{name}'s userinfo is about someone else.", reason="userinfo")
        claims = {**extra, **claims}
    return ProviderAnswer(claims=claims, refresh_token=token.get("refresh_token") or "")


def _claim_message(name: str, claim: str) -> str:
    return {
        "aud": f"{name} issued the ID token for another application (its audience is not this "
        "organization's client id).",
        "iss": f"The ID token was not issued by {name}'s issuer.",
        "nonce": "The ID token's nonce does not match this sign-in: it may be replayed from "
        "another one. Start again from the log-in page.",
        "exp": f"{name} answered with an ID token that has already expired.",
    }.get(claim, f"{name}'s ID token failed the check of its {claim!r} claim.")


class ProviderCheck:
    """The answer to "does the provider still vouch for this person?"."""

    VALID = "valid"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


def recheck(*, provider: ProviderConfig, refresh_token: str) -> tuple[str, str, dict]:
    """Ask the provider again with the session's refresh token.

    Returns ``(ProviderCheck.…, new refresh token, userinfo claims)``. ``REFUSED`` means the
    provider no longer honours the grant (the person was removed or disabled there, or their
    session at the provider was ended).
    """
    client = ProviderClient(provider)
    try:
        token = client.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
        claims = dict(client.userinfo(token=token))
    except OAuthError as error:
        log.info("provider %s refused a refresh: %s", provider.issuer, error.error)
        return ProviderCheck.REFUSED, "", {}
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else 0
        if status in (400, 401, 403):
            return ProviderCheck.REFUSED, "", {}
        return ProviderCheck.UNREACHABLE, "", {}
    except (requests.RequestException, ValueError) as error:
        log.warning("identity provider %s unreachable: %s", provider.issuer, error)
        return ProviderCheck.UNREACHABLE, "", {}
    except SignInRefused as refusal:  # its discovery document or address is refused now
        log.warning("identity provider %s refused: %s", provider.issuer, refusal.message)
        return ProviderCheck.UNREACHABLE, "", {}
    return ProviderCheck.VALID, token.get("refresh_token") or refresh_token, claims
