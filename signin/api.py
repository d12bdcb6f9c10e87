"""``/api/v1/organizations/{slug}/sign-in/``: the organization's identity provider (its admins).

GET shows the settings and whether a client secret is set, never the secret; PUT creates or
replaces, PATCH changes some fields, both taking an optional write-only ``client_secret``
(absent or empty keeps the stored one); DELETE stops sign-in through the provider.
"""

from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.api.errors import as_api_error
from labelhub.models import Role
from labelhub.permissions import organization_for
from signin.models import ProviderConfig
from signin.services import (
    EDITABLE,
    provider_config_delete,
    provider_config_save,
    scim_token_create,
)

NOT_FOUND = OpenApiResponse(
    description="No such organization, not one you administer, or no provider configured."
)


class RoleRule(serializers.Serializer):
    group = serializers.CharField(help_text="A value of the groups claim.")
    admin = serializers.BooleanField(required=False, help_text="Members of the group are admins.")
    project = serializers.IntegerField(required=False, help_text="A project of the organization.")
    role = serializers.ChoiceField(required=False, choices=Role.choices)


class ProviderConfigOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
    display_name = serializers.CharField()
    issuer = serializers.CharField()
    client_id = serializers.CharField()
    client_secret_set = serializers.SerializerMethodField(
        help_text="Whether a client secret is stored (the secret itself is never returned)."
    )
    scopes = serializers.CharField()
    allowed_domains = serializers.ListField(child=serializers.CharField())
    verified_domains = serializers.SerializerMethodField(
        help_text="The allowed domains LabelHub's staff verified: the log-in page sends their "
        "people to this provider."
    )
    groups_claim = serializers.CharField()
    role_rules = RoleRule(many=True)
    passwords_off = serializers.BooleanField()
    recheck_minutes = serializers.IntegerField()
    redirect_uri = serializers.SerializerMethodField(
        help_text="Register this as the redirect (callback) URI at the provider."
    )
    sign_in_url = serializers.SerializerMethodField()
    scim_url = serializers.SerializerMethodField(help_text="The SCIM 2.0 base URL.")
    scim_token_set = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    def get_verified_domains(self, config: ProviderConfig) -> list[str]:
        return sorted(
            config.organization.domain_claims.filter(verified_at__isnull=False).values_list(
                "domain", flat=True
            )
        )

    def get_client_secret_set(self, config: ProviderConfig) -> bool:
        return bool(config.client_secret)

    def _url(self, name: str, config: ProviderConfig) -> str:
        return self.context["request"].build_absolute_uri(
            reverse(name, kwargs={"slug": config.organization.slug})
        )

    def get_redirect_uri(self, config: ProviderConfig) -> str:
        return self._url("signin:callback", config)

    def get_sign_in_url(self, config: ProviderConfig) -> str:
        return self._url("signin:start", config)

    def get_scim_url(self, config: ProviderConfig) -> str:
        return self.context["request"].build_absolute_uri("/scim/v2/")

    def get_scim_token_set(self, config: ProviderConfig) -> bool:
        return bool(config.scim_token_hash)


class ProviderConfigInput(serializers.Serializer):
    enabled = serializers.JSONField(required=False)
    display_name = serializers.JSONField(required=False)
    issuer = serializers.JSONField(required=False)
    client_id = serializers.JSONField(required=False)
    client_secret = serializers.CharField(
        required=False, allow_blank=True, write_only=True, help_text="Write-only."
    )
    scopes = serializers.JSONField(required=False, help_text='e.g. "openid email profile groups"')
    allowed_domains = serializers.JSONField(required=False, help_text='e.g. ["example.com"]')
    groups_claim = serializers.JSONField(required=False)
    role_rules = RoleRule(many=True, required=False)
    passwords_off = serializers.JSONField(required=False)
    recheck_minutes = serializers.JSONField(required=False)


class ProviderConfigApi(APIView):
    def _config(self, organization) -> ProviderConfig:
        config = (
            ProviderConfig.objects.select_related("organization")
            .filter(organization=organization)
            .first()
        )
        if config is None:
            raise NotFound("This organization has no identity provider configured.")
        return config

    def _out(self, request: Request, config: ProviderConfig, code=status.HTTP_200_OK) -> Response:
        return Response(ProviderConfigOutput(config, context={"request": request}).data, code)

    @extend_schema(
        operation_id="organizations_sign_in_read",
        summary="The organization's identity provider (admins; the secret is never returned)",
        responses={200: ProviderConfigOutput, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        return self._out(request, self._config(organization))

    def _save(self, request: Request, slug: str, *, partial: bool) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        unknown = set(request.data) - set(EDITABLE) - {"client_secret"}
        if unknown:
            raise serializers.ValidationError(
                {key: ["Not a sign-in setting."] for key in sorted(unknown)}
            )
        changes = {key: request.data[key] for key in EDITABLE if key in request.data}
        secret = request.data.get("client_secret")
        existed = ProviderConfig.objects.filter(organization=organization).exists()
        if not partial and existed:
            missing = [
                key
                for key in ("display_name", "issuer", "client_id", "allowed_domains")
                if key not in changes
            ]
            if missing:
                raise serializers.ValidationError(
                    {key: ["This field is required."] for key in missing}
                )
        try:
            config = provider_config_save(
                organization=organization,
                changes=changes,
                client_secret=secret if secret else None,
                actor=request.user,
            )
        except ValidationError as error:
            raise as_api_error(error) from error
        return self._out(
            request, config, status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    @extend_schema(
        operation_id="organizations_sign_in_replace",
        summary="Create or replace the organization's identity provider (admins)",
        request=ProviderConfigInput,
        responses={200: ProviderConfigOutput, 201: ProviderConfigOutput, 404: NOT_FOUND},
    )
    def put(self, request: Request, slug: str) -> Response:
        return self._save(request, slug, partial=False)

    @extend_schema(
        operation_id="organizations_sign_in_change",
        summary="Change some settings of the organization's identity provider (admins)",
        request=ProviderConfigInput,
        responses={200: ProviderConfigOutput, 201: ProviderConfigOutput, 404: NOT_FOUND},
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self._save(request, slug, partial=True)

    @extend_schema(
        operation_id="organizations_sign_in_delete",
        summary="Stop signing in through the identity provider (admins)",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        self._config(organization)
        provider_config_delete(organization=organization)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScimTokenOutput(serializers.Serializer):
    token = serializers.CharField(help_text="The bearer token for the provider's SCIM client.")
    scim_url = serializers.CharField()


class ScimTokenApi(APIView):
    @extend_schema(
        operation_id="organizations_sign_in_scim_token",
        summary="A new SCIM bearer token, returned this once; the previous one stops (admins)",
        request=None,
        responses={201: ScimTokenOutput, 404: NOT_FOUND},
    )
    def post(self, request: Request, slug: str) -> Response:
        organization = organization_for(user=request.user, slug=slug)
        try:
            token = scim_token_create(organization=organization)
        except ValidationError as error:
            raise NotFound("This organization has no identity provider configured.") from error
        return Response(
            {"token": token, "scim_url": request.build_absolute_uri("/scim/v2/")},
            status=status.HTTP_201_CREATED,
        )
