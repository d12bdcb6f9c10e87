"""SCIM 2.0 ``/scim/v2/Users``: the identity provider creates, changes and deactivates people
ahead of (or without) their sign-in.

The provider's SCIM client authenticates with the organization's bearer token (made on
*People → Sign-in*, stored as a hash). ``id`` is the LabelHub account's id; ``active`` is being a
member of the organization. Setting ``active`` to false (PUT or PATCH) or DELETE does what *Remove*
does on the People page. Only the people of this provider are served: those its SCIM client
manages or who signed in through it, and members with an address at its allowed domains.
Supported: create, read, list with ``filter=userName eq "…"`` and
``startIndex``/``count``, replace, PATCH (``replace``/``add`` of ``active``, ``userName``,
``name.givenName``, ``name.familyName``, ``emails``), delete. Groups are not served.
"""

import json
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from labelhub.models import OrganizationMember
from signin.models import ProviderConfig
from signin.services import (
    ScimConflict,
    provider_for_scim_token,
    scim_person_create,
    scim_person_deactivate,
    scim_person_update,
)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CONTENT_TYPE = "application/scim+json"
MAX_COUNT = 200


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, content_type=CONTENT_TYPE)


def _error(status: int, detail: str, scim_type: str = "") -> JsonResponse:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _json(body, status)


def _scim(view: Callable) -> Callable:
    """Bearer token → the organization's provider; JSON in; SCIM errors out."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        provider = provider_for_scim_token(token)
        if provider is None:
            return _error(401, "A valid bearer token is required.")
        body = None
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return _error(400, "The body is not JSON.", "invalidSyntax")
            if not isinstance(body, dict):
                return _error(400, "The body is a JSON object.", "invalidSyntax")
        try:
            return view(request, provider, body, *args, **kwargs)
        except ValidationError as error:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            return _error(400, detail, "invalidValue")
        except ScimConflict as conflict:
            return _error(409, str(conflict), "uniqueness")

    return wrapped


def _people(provider: ProviderConfig):
    """The people this provider answers for: those its SCIM client manages (deactivated too),
    those who signed in through it, and members with an address at its allowed domains. Nobody
    else of the organization (a guest invited with another address, an owner with a password)
    is read, changed or deactivated through SCIM."""
    at_domains = Q()
    for domain in provider.allowed_domains:
        at_domains |= Q(email__iendswith=f"@{domain}")
    return (
        get_user_model()
        .objects.filter(
            Q(scim_records__provider=provider)
            | Q(provider_identities__provider=provider)
            | Q(organization_memberships__organization=provider.organization) & at_domains
        )
        .distinct()
    )


def _user_json(request: HttpRequest, provider: ProviderConfig, user, *, active: bool) -> dict:
    return {
        "schemas": [USER],
        "id": str(user.pk),
        "userName": user.email or user.get_username(),
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.get_full_name() or user.get_username(),
        "emails": [{"value": user.email, "primary": True}] if user.email else [],
        "active": active,
        "meta": {
            "resourceType": "User",
            "location": request.build_absolute_uri(
                reverse("signin-scim:user", kwargs={"user_id": user.pk})
            ),
        },
    }


def _active(provider: ProviderConfig, user) -> bool:
    return (
        user.is_active
        and OrganizationMember.objects.filter(
            organization=provider.organization, user=user
        ).exists()
    )


def _fields(body: dict) -> dict:
    """What a User resource says, in our terms (``None``: not said)."""
    name = body.get("name") if isinstance(body.get("name"), dict) else {}
    emails = body.get("emails") if isinstance(body.get("emails"), list) else []
    primary = next(
        (e for e in emails if isinstance(e, dict) and e.get("primary")),
        emails[0] if emails and isinstance(emails[0], dict) else None,
    )
    email = primary.get("value") if primary else None
    user_name = body.get("userName")
    if email is None and isinstance(user_name, str) and "@" in user_name:
        email = user_name
    active = body.get("active")
    if isinstance(active, str):
        active = active.lower() == "true"
    return {
        "email": email if isinstance(email, str) else None,
        "first_name": name.get("givenName") if isinstance(name.get("givenName"), str) else None,
        "last_name": name.get("familyName") if isinstance(name.get("familyName"), str) else None,
        "active": active if isinstance(active, bool) else None,
    }


@_scim
def users(request: HttpRequest, provider: ProviderConfig, body: dict | None) -> HttpResponse:
    if request.method == "GET":
        return _list(request, provider)
    if request.method != "POST":
        return _error(405, "GET or POST.")
    fields = _fields(body)
    if not fields["email"]:
        return _error(400, "userName (an email address) or emails is required.", "invalidValue")
    user = scim_person_create(
        provider=provider,
        email=fields["email"],
        first_name=fields["first_name"] or "",
        last_name=fields["last_name"] or "",
        external_id=str(body.get("externalId") or ""),
        active=fields["active"] is not False,
    )
    return _json(_user_json(request, provider, user, active=_active(provider, user)), 201)


def _list(request: HttpRequest, provider: ProviderConfig) -> HttpResponse:
    people = _people(provider).order_by("pk")
    query = request.GET.get("filter", "").strip()
    if query:
        parts = query.split(None, 2)
        if len(parts) != 3 or parts[0] not in ("userName", "emails.value") or parts[1] != "eq":
            return _error(400, 'Only filter=userName eq "…" is supported.', "invalidFilter")
        value = parts[2].strip().strip('"')
        people = people.filter(Q(email__iexact=value) | Q(username__iexact=value))
    try:
        start = max(int(request.GET.get("startIndex", 1)), 1)
        count = min(max(int(request.GET.get("count", 100)), 0), MAX_COUNT)
    except ValueError:
        return _error(400, "startIndex and count are numbers.", "invalidValue")
    total = people.count()
    page = list(people[start - 1 : start - 1 + count])
    members = set(
        OrganizationMember.objects.filter(
            organization=provider.organization, user__in=page
        ).values_list("user_id", flat=True)
    )
    return _json(
        {
            "schemas": [LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [
                _user_json(request, provider, u, active=u.is_active and u.pk in members)
                for u in page
            ],
        }
    )


@_scim
def user(
    request: HttpRequest, provider: ProviderConfig, body: dict | None, user_id: int
) -> HttpResponse:
    person = _people(provider).filter(pk=user_id).first()
    if person is None:
        return _error(404, f"No user {user_id} here.")
    if request.method == "GET":
        return _json(_user_json(request, provider, person, active=_active(provider, person)))
    if request.method == "DELETE":
        if _active(provider, person):
            scim_person_deactivate(provider=provider, user=person)
        return HttpResponse(status=204)
    if request.method == "PUT":
        fields = _fields(body)
    elif request.method == "PATCH":
        fields = _patch_fields(body)
        if fields is None:
            return _error(400, "A PatchOp with Operations is expected.", "invalidSyntax")
    else:
        return _error(405, "GET, PUT, PATCH or DELETE.")
    scim_person_update(provider=provider, user=person, **fields)
    person.refresh_from_db()
    return _json(_user_json(request, provider, person, active=_active(provider, person)))


def _patch_fields(body: dict) -> dict | None:
    operations = body.get("Operations")
    if not isinstance(operations, list):
        return None
    resource: dict = {}
    for operation in operations:
        if not isinstance(operation, dict):
            return None
        if str(operation.get("op", "")).lower() not in ("replace", "add"):
            continue
        path, value = operation.get("path"), operation.get("value")
        if path is None and isinstance(value, dict):
            for key, item in value.items():
                _set_path(resource, key, item)
        elif isinstance(path, str):
            _set_path(resource, path, value)
    fields = _fields(resource)
    if "userName" not in resource and "emails" not in resource:
        fields["email"] = None
    return fields


def _set_path(resource: dict, path: str, value) -> None:
    if path in ("name.givenName", "name.familyName"):
        resource.setdefault("name", {})[path.split(".", 1)[1]] = value
    elif path.startswith("emails"):
        if isinstance(value, list):
            resource["emails"] = value
        elif isinstance(value, str):
            resource["emails"] = [{"value": value, "primary": True}]
    elif path in ("active", "userName", "name"):
        resource[path] = value
