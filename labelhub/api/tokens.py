"""``POST /api/v1/auth/token/``: a username and password traded for a new API token.

The shape is DRF's ``obtain_auth_token`` (form or JSON ``{username, password}`` in,
``{"token": …}`` out, ``400 {"non_field_errors": […]}`` when they do not match), a public
contract; what changed is that each call makes a new token (only its hash is kept, so an
existing one cannot be shown again).
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from labelhub.accounts import api_token_issue


class TokenObtainInput(serializers.Serializer):
    # Django's usernames are at most 150 characters; a longer one cannot match, and is refused
    # here, before the sign-in throttle would try to record it.
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)

    def validate(self, attrs):
        user = authenticate(
            request=self.context["request"],
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with provided credentials.", code="authorization"
            )
        attrs["user"] = user
        return attrs


class TokenObtainApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request=TokenObtainInput,
        responses=inline_serializer("TokenObtainOutput", {"token": serializers.CharField()}),
    )
    def post(self, request):
        data = TokenObtainInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        return Response({"token": api_token_issue(user=data.validated_data["user"]).key})
