"""Throttles for the anonymous join endpoint: per client IP and per public link.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``public_join_ip`` and
``public_join_slug``, set by ``THROTTLE_PUBLIC_JOIN_IP`` / ``THROTTLE_PUBLIC_JOIN_SLUG``). DRF
copies the rates into a class attribute at import time; reading them per request instead keeps
``override_settings`` (and a settings reload) effective.
"""

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _LiveRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PublicJoinIpThrottle(_LiveRateThrottle):
    """Guests from one address (``NUM_PROXIES`` decides which X-Forwarded-For entry counts)."""

    scope = "public_join_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicJoinSlugThrottle(_LiveRateThrottle):
    """All guests of one public link together: caps a link shared far beyond the school."""

    scope = "public_join_slug"

    def get_cache_key(self, request, view):
        slug = str(view.kwargs.get("slug", ""))
        digest = hashlib.sha256(slug.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}
