"""``/control/``: what a test changes at the provider, as an admin of a real one would."""

import json
import os
from collections import Counter

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.http import HttpResponseForbidden, JsonResponse
from django.test import RequestFactory
from django.views.decorators.csrf import csrf_exempt
from jwcrypto import jwk
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import JwksInfoView

from tests.signin.provider import validator

REQUESTS: Counter = Counter()


class CountRequests:
    """Counts requests by path (the tests read how often the JWKS was fetched)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        REQUESTS[request.path] += 1
        return self.get_response(request)


def _person(data: dict) -> dict:
    user, _ = User.objects.get_or_create(username=data["username"])
    user.email = data.get("email", user.email)
    user.first_name = data.get("first_name", user.first_name)
    user.last_name = data.get("last_name", user.last_name)
    user.is_active = data.get("is_active", True)
    if "password" in data:
        user.set_password(data["password"])
    user.save()
    groups = list(data.get("groups", []))
    if not data.get("email_verified", True):
        groups.append(validator.UNVERIFIED)
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    return {"id": user.pk}


def _application(data: dict) -> dict:
    app = Application.objects.filter(client_id=data["client_id"]).first() or Application(
        client_id=data["client_id"]
    )
    app.name = data["client_id"]
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.client_secret = data["client_secret"]
    app.redirect_uris = " ".join(data["redirect_uris"])
    app.algorithm = Application.RS256_ALGORITHM
    app.skip_authorization = True
    app.save()
    return {"id": app.pk}


def _rotate_key(data: dict) -> dict:
    """A new signing key; the old one leaves the JWKS unless ``keep_old``."""
    old = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    new = jwk.JWK.generate(kty="RSA", size=2048)
    settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = new.export_to_pem(
        private_key=True, password=None
    ).decode()
    settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] = (
        [old] if data.get("keep_old") else []
    )
    oauth2_settings.reload()
    return {"kid": new.thumbprint()}


def _lifetimes(data: dict) -> dict:
    """How long access tokens live and how long a refresh token outlives its access token (as a
    provider's session idle timeout does); ``None`` for the refresh token: forever."""
    settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] = data.get("access", 3600)
    settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"] = data.get("refresh")
    oauth2_settings.reload()
    return {}


#: The key set ``/o/.well-known/jwks.json`` serves instead of the real one, when set.
FROZEN_JWKS: dict = {}


def _freeze_jwks(data: dict) -> dict:
    """Keep publishing today's keys whatever the provider signs with next (``freeze: false``
    publishes the real set again): a token signed by a key not in the JWKS."""
    FROZEN_JWKS.clear()
    if data.get("freeze", True):
        real = JwksInfoView.as_view()(RequestFactory().get("/o/.well-known/jwks.json"))
        FROZEN_JWKS.update(json.loads(real.content))
    return {}


def jwks(request):
    if FROZEN_JWKS:
        return JsonResponse(FROZEN_JWKS)
    return JwksInfoView.as_view()(request)


ACTIONS = {
    "freeze_jwks": _freeze_jwks,
    "lifetimes": _lifetimes,
    "person": _person,
    "delete_person": lambda data: {
        "deleted": User.objects.filter(username=data["username"]).delete()[0]
    },
    "application": _application,
    "tamper": lambda data: (
        validator.TAMPER.clear() or validator.TAMPER.update(data["claims"]) or {}
    ),
    "rotate_key": _rotate_key,
    "requests": lambda data: dict(REQUESTS),
}


@csrf_exempt
def control(request):
    if request.headers.get("X-Control-Token") != os.environ["IDP_CONTROL_TOKEN"]:
        return HttpResponseForbidden()
    data = json.loads(request.body)
    return JsonResponse(ACTIONS[data.pop("action")](data))
