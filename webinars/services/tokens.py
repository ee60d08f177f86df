"""Writes on API tokens for apps: issue, revoke, note their use (docs/tokens.md)."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from webinars.models import ApiToken
from webinars.models_tokens import (
    DEFAULT_TOKEN_NAME,
    PREFIX_LENGTH,
    new_token_key,
    token_digest,
)

# How stale ``last_used_at`` may get: the hot path writes a token's row at most this often.
LAST_USED_EVERY = timedelta(hours=1)


def api_token_issue(
    *, user, name: str = DEFAULT_TOKEN_NAME, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its key: the only time the key is known (it is not stored).

    Every call makes another token (one per app or device); the user's others stay valid.
    """
    key = new_token_key()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name or DEFAULT_TOKEN_NAME,
        digest=token_digest(key),
        prefix=key[:PREFIX_LENGTH],
        created_at=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoked is deleted: the key stops working on the next request."""
    token.delete()


def api_token_touch(*, token: ApiToken, now=None) -> bool:
    """Note that ``token`` was used now, at most once per ``LAST_USED_EVERY``.

    Nothing is written while the loaded ``last_used_at`` is fresh (the common case on the hot
    path); otherwise one conditional UPDATE, so of many requests racing past the same stale
    value only the first changes the row. True if this call wrote it.
    """
    now = now or timezone.now()
    stale_before = now - LAST_USED_EVERY
    if token.last_used_at is not None and token.last_used_at > stale_before:
        return False
    written = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before))
        .update(last_used_at=now)
    )
    token.last_used_at = now
    return bool(written)
