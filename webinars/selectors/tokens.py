"""Reads of API tokens: by key (authentication) and a user's own list (docs/tokens.md)."""

from django.db.models import QuerySet

from webinars.models import ApiToken
from webinars.models_tokens import token_digest


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The token whose key is ``key``, with its user, or None.

    One indexed lookup of the key's SHA-256 digest. No constant-time comparison is needed (nor
    possible in an index): a timing difference could at most hint at the digest's first
    characters, and knowing part of a SHA-256 digest does not help to find a key that has it.
    """
    return ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()


def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    """``user``'s own tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
