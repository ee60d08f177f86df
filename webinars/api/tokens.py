"""API views: API tokens for apps (sign in for a token, list one's tokens, revoke them).

docs/tokens.md, "API tokens for apps": every sign-in issues a new token (one per app or device),
the key is shown once, tokens may expire, and revoking deletes them.
"""

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars.api.authentication import BearerTokenAuthentication
from webinars.api.schema import ErrorSerializer
from webinars.api.serializers import ZonedDateTimeField, ZonedTimesMixin
from webinars.api.throttles import LoginIpThrottle, LoginUsernameThrottle
from webinars.models import ApiToken
from webinars.models_tokens import DEFAULT_TOKEN_NAME
from webinars.selectors.tokens import api_tokens_of
from webinars.services.tokens import api_token_issue, api_token_revoke

MAX_EXPIRES_IN_DAYS = 3650

ERROR = FIELD_ERRORS = ErrorSerializer  # the API's one error body (webinars.api.schema)
UNAUTHORIZED = OpenApiResponse(ERROR, description="No, an unknown, a revoked or an expired token.")
THROTTLED = OpenApiResponse(
    ERROR, description="Too many sign-ins for this username or from this address: see Retry-After."
)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )
    name = serializers.CharField(
        required=False,
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=f'What the app calls it, e.g. "Diary sync" (default "{DEFAULT_TOKEN_NAME}").',
    )
    expires_in_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_EXPIRES_IN_DAYS,
        help_text=f"1–{MAX_EXPIRES_IN_DAYS}; omitted or null: the token never expires.",
    )

    def validate(self, attrs):
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:  # wrong username or password, or an inactive user: the same answer
            raise serializers.ValidationError(
                _("Unable to log in with provided credentials."), code="authorization"
            )
        attrs["user"] = user
        return attrs


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key: send it as `Authorization: Bearer <key>`.")
    id = serializers.IntegerField()
    name = serializers.CharField()
    expires_at = ZonedDateTimeField(allow_null=True, help_text="null: never expires.")


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner's list shows it: never the key, only its first characters."""

    prefix = serializers.CharField(help_text="The key's first characters, to tell tokens apart.")
    created_at = ZonedDateTimeField()
    expires_at = ZonedDateTimeField(allow_null=True, help_text="null: never expires.")
    last_used_at = ZonedDateTimeField(allow_null=True, help_text="Noted at most once an hour.")
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "is_current"]

    @extend_schema_field(serializers.BooleanField(help_text="The token of this very request."))
    def get_is_current(self, token) -> bool:
        current = self.context["request"].auth
        return isinstance(current, ApiToken) and current.pk == token.pk


class TokenPagination(PageNumberPagination):
    """DRF's page-number pagination (``count``, ``next``, ``previous``, ``results``): set on
    the view, not globally, and sized here rather than by ``PAGE_SIZE``."""

    page_size = 50


class AuthTokenApi(ZonedTimesMixin, APIView):
    """Exchange username and password for a new API token (use it as ``Bearer <token>``).

    Each call issues another token, so every app or device has its own to list and revoke;
    the user's other tokens stay valid. Throttled per username and per address. Answers 200
    (not 201) as it always has, so apps written against the first API keep working.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle, LoginUsernameThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            status.HTTP_200_OK: IssuedTokenSerializer,
            status.HTTP_400_BAD_REQUEST: OpenApiResponse(
                FIELD_ERRORS, description="A field is missing or wrong, or the credentials are."
            ),
            status.HTTP_429_TOO_MANY_REQUESTS: THROTTLED,
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, key = api_token_issue(
            user=data["user"],
            name=data.get("name") or DEFAULT_TOKEN_NAME,
            expires_in_days=data.get("expires_in_days"),
        )
        body = {"token": key, "id": token.pk, "name": token.name, "expires_at": token.expires_at}
        issued = IssuedTokenSerializer(body, context={"request": request})
        return Response(issued.data)


class TokenListApi(ZonedTimesMixin, ListAPIView):
    """The caller's own API tokens, newest first (never their keys)."""

    serializer_class = ApiTokenSerializer
    pagination_class = TokenPagination

    def get_queryset(self):
        return api_tokens_of(user=self.request.user)

    @extend_schema(responses={status.HTTP_200_OK: ApiTokenSerializer(many=True), 401: UNAUTHORIZED})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TokenRevokeApi(APIView):
    """Revoke (delete) one of the caller's own tokens; another user's is "not found"."""

    @extend_schema(
        request=None,
        responses={
            status.HTTP_204_NO_CONTENT: OpenApiResponse(description="Revoked."),
            status.HTTP_401_UNAUTHORIZED: UNAUTHORIZED,
            status.HTTP_404_NOT_FOUND: OpenApiResponse(ERROR, description="None of yours."),
        },
    )
    def delete(self, request, token_id: int):
        token = get_object_or_404(api_tokens_of(user=request.user), pk=token_id)
        api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CurrentTokenRevokeApi(APIView):
    """Sign out an app: revoke the Bearer token this request is made with."""

    authentication_classes = [BearerTokenAuthentication]

    @extend_schema(
        request=None,
        responses={
            status.HTTP_204_NO_CONTENT: OpenApiResponse(description="Revoked."),
            status.HTTP_401_UNAUTHORIZED: UNAUTHORIZED,
        },
    )
    def delete(self, request):
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token/", AuthTokenApi.as_view(), name="api-auth-token"),
    path("auth/tokens/", TokenListApi.as_view(), name="api-auth-tokens"),
    path("auth/tokens/current/", CurrentTokenRevokeApi.as_view(), name="api-auth-token-current"),
    path("auth/tokens/<int:token_id>/", TokenRevokeApi.as_view(), name="api-auth-token-revoke"),
]
