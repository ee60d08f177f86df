from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """Per-user API tokens sent as ``Authorization: Bearer <token>``."""

    keyword = "Bearer"
