"""Throttles for the anonymous join endpoint (per client IP and per public link) and for
signing in to get an API token (per username and per client IP).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``public_join_ip`` and
``public_join_slug``, set by ``THROTTLE_PUBLIC_JOIN_IP`` / ``THROTTLE_PUBLIC_JOIN_SLUG``;
``auth_token_user`` and ``auth_token_ip``, set by ``THROTTLE_LOGIN_USER`` /
``THROTTLE_LOGIN_IP``). DRF
copies the rates into a class attribute at import time; reading them per request instead keeps
``override_settings`` (and a settings reload) effective.
"""

import hashlib

from django.utils.crypto import salted_hmac
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _LiveRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PublicJoinIpThrottle(_LiveRateThrottle):
    """Guests from one address (``NUM_PROXIES`` decides which X-Forwarded-For entry counts).

    DRF's sliding log; its cache key is shared with the HTML guest-join form's throttle.
    """

    scope = "public_join_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicJoinSlugThrottle(_LiveRateThrottle):
    """All guests of one public link together: caps a link shared far beyond the school.

    A whole-school assembly is thousands of joins a minute on one link. DRF's sliding log keeps
    (and re-pickles) every timestamp of the last minute on each request, so this throttle counts
    in fixed windows with one atomic cache increment instead. A window edge may let up to twice
    the rate through in a short burst, which is fine for a cap of this size.
    """

    scope = "public_join_slug"

    def get_cache_key(self, request, view):
        slug = str(view.kwargs.get("slug", ""))
        digest = hashlib.sha256(slug.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        key = f"{key}_{window}"
        if self.cache.add(key, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = self.cache.incr(key)
            except ValueError:  # expired between add and incr: start the window again
                self.cache.set(key, 1, self.duration + 1)
                count = 1
        return count <= self.num_requests

    def wait(self):
        return max(1.0, self.window_ends_at - self.now)


class LoginIpThrottle(_LiveRateThrottle):
    """Sign-ins (``POST /api/auth/token/``) from one address, whatever the usernames.

    A large cap (``THROTTLE_LOGIN_IP``, 600/min): a school's server signs in hundreds of users
    at 09:00 from one address. Guessing is stopped per username (``LoginUsernameThrottle``);
    this caps one address spraying many usernames. DRF's sliding log.
    """

    scope = "auth_token_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(_LiveRateThrottle):
    """Sign-ins naming one username, from any address (``THROTTLE_LOGIN_USER``, 10/min).

    Every attempt counts, right or wrong, so a password guesser gets ten tries a minute
    however many addresses it has. The username is compared as the sign-in reads it (trimmed),
    case-folded. The cache key holds an HMAC of it (keyed with ``SECRET_KEY``), never the name:
    a cache dump lists no usernames and cannot be matched against a list of likely ones.
    A request without a username is left to the serializer (400) and the address's cap.
    """

    scope = "auth_token_user"

    def get_cache_key(self, request, view):
        data = request.data
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None
        ident = salted_hmac(
            "webinars.api.throttles.LoginUsernameThrottle", username.strip().casefold()
        ).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
