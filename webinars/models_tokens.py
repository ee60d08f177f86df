"""API tokens for apps: many per user, named, optionally expiring, revoked by deleting them.

The key is shown once, when it is issued; the database keeps only its SHA-256 digest (so a
leaked database or backup signs nobody in) and a short prefix that lets a person tell their
tokens apart in a list. The writes are in ``webinars.services.tokens``, the reads in
``webinars.selectors.tokens`` and, on the join's hot path, ``webinars.selectors.viewer``
(docs/tokens.md, "API tokens for apps").
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX_LENGTH = 8
DEFAULT_TOKEN_NAME = "API token"  # noqa: S105 - a label, not a secret


def new_token_key() -> str:
    """A fresh key: 32 random bytes, URL-safe base64 (43 characters, no padding)."""
    return secrets.token_urlsafe(32)


def token_digest(key: str) -> str:
    """The SHA-256 hex digest a key is stored and looked up by.

    A plain (unsalted, fast) hash is right here, unlike for passwords: keys are 256 random bits
    (old DRF keys 160), so there is nothing to guess, and the lookup needs the same digest for
    the same key on every request.
    """
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """One app's credential for one user (``Authorization: Bearer <key>``)."""

    # Written on the hot path (last use) and never referenced by editorial content.
    wagtail_reference_index_ignore = True

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="app_tokens",  # wagtailcore.APIToken has "api_tokens"
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_('What the app calls it, e.g. "Diary sync".')
    )
    digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key starts with"), max_length=PREFIX_LENGTH, editable=False)
    # a default rather than auto_now_add: the migration of old tokens keeps their dates
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        _("expires"), null=True, blank=True, help_text=_("Empty: never.")
    )
    last_used_at = models.DateTimeField(
        _("last used"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Updated at most once an hour."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
