"""Jitsi join URLs and JWT claims, self-hosted and JaaS (no database access).

What Jitsi actually checks is written down in ``shared/notes/JITSI.md``; in short:
``typ`` JWT, the server's algorithm, ``iss``/``aud``/``sub``/``room`` (the exact room — ``*``
would open every room), ``nbf``/``exp`` with no clock leeway (so ``nbf`` is a minute in the past),
and every ``context.user`` value a string. Moderator plugins disagree on where they look, so the
moderator flag is written in all three conventions, and its negative for everyone else.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from webinars.choices import JitsiEnv, JoinRole

JAAS_DOMAIN = "8x8.vc"
NOT_BEFORE_SKEW = timedelta(seconds=60)
MODERATOR_FEATURES = ("recording", "livestreaming", "transcription")
OBSERVER_TOOLBAR = ("chat", "raisehand", "tileview", "fullscreen", "settings", "hangup")


def default_domain(env: str) -> str:
    return JAAS_DOMAIN if env == JitsiEnv.JAAS else settings.JITSI_DOMAIN


def room_base_url(*, domain: str, room_name: str, env: str) -> str:
    """The room's URL without a token: ``https://{domain}/{room}`` (JaaS adds the AppID)."""
    if env == JitsiEnv.JAAS:
        return f"https://{domain}/{settings.JAAS_APP_ID}/{room_name}"
    return f"https://{domain}/{room_name}"


@dataclass(frozen=True)
class JitsiUser:
    """Who the token speaks for. ``id`` is a string: the user's pk, or a synthetic guest id."""

    id: str
    name: str
    email: str = ""
    avatar: str = ""


def token_expiry(*, now: datetime, window_end: datetime) -> datetime:
    """``min(now + JITSI_JWT_TTL_MIN, window end)``: a token never outlives its room's window."""
    return min(now + timedelta(minutes=settings.JITSI_JWT_TTL_MIN), window_end)


def token_claims(
    *,
    env: str,
    room_name: str,
    user: JitsiUser,
    role: str,
    group: str,
    now: datetime,
    expires_at: datetime,
) -> dict:
    """The JWT payload of SPEC §5 for one join (self-hosted or JaaS conventions)."""
    moderator = role == JoinRole.MODERATOR
    context_user = {
        "id": str(user.id),
        "name": str(user.name),
        "email": str(user.email),
        "avatar": str(user.avatar),
        "moderator": "true" if moderator else "false",
        "affiliation": "owner" if moderator else "member",
    }
    if env == JitsiEnv.JAAS:
        issuer, audience, subject = "chat", "jitsi", settings.JAAS_APP_ID
        if role == JoinRole.OBSERVER:
            # A real boolean: lib-jitsi-meet tests it with Boolean(), so the string "false"
            # would hide everyone. Left out for the others rather than written as a non-string.
            context_user["hidden-from-recorder"] = True
    else:
        issuer, audience = settings.JITSI_JWT_APP_ID, settings.JITSI_JWT_AUD
        subject = settings.JITSI_JWT_SUB
    features = {name: "true" if moderator else "false" for name in MODERATOR_FEATURES}
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "room": room_name.lower(),
        "iat": int(now.timestamp()),
        "nbf": int((now - NOT_BEFORE_SKEW).timestamp()),
        "exp": int(expires_at.timestamp()),
        "moderator": moderator,
        "context": {"user": context_user, "features": features, "group": str(group)},
    }


@lru_cache(maxsize=4)
def _jaas_key(pem: str):
    """Parse the PEM once per process: RSA key loading costs more than signing."""
    return load_pem_private_key(pem.encode(), password=None)


def sign_token(*, env: str, claims: dict) -> str:
    """HS256 with ``JITSI_JWT_SECRET`` (self-hosted) or RS256 with the JaaS key and ``kid``."""
    if env == JitsiEnv.JAAS:
        if not (settings.JAAS_PRIVATE_KEY and settings.JAAS_KID and settings.JAAS_APP_ID):
            raise ImproperlyConfigured(
                "JaaS tokens need JAAS_APP_ID, JAAS_KID and JAAS_PRIVATE_KEY(_PATH)."
            )
        return jwt.encode(
            claims,
            _jaas_key(settings.JAAS_PRIVATE_KEY),
            algorithm="RS256",
            headers={"kid": settings.JAAS_KID, "typ": "JWT"},
        )
    if not settings.JITSI_JWT_SECRET:
        raise ImproperlyConfigured("JITSI_JWT_ENABLED needs JITSI_JWT_SECRET.")
    return jwt.encode(claims, settings.JITSI_JWT_SECRET, algorithm="HS256", headers={"typ": "JWT"})


def observer_fragment(*, display_name: str) -> str:
    """Jitsi's URL-fragment overrides for observers: muted, no app nag, a short toolbar.

    Jitsi JSON-parses each value after URL-decoding it, so strings carry their quotes. These are
    cosmetic (anyone can edit a URL); the token is what enforces the role.
    """
    params = {
        "config.startWithAudioMuted": True,
        "config.startWithVideoMuted": True,
        "config.disableDeepLinking": True,
        "config.toolbarButtons": list(OBSERVER_TOOLBAR),
        "userInfo.displayName": display_name,
    }
    return "&".join(
        f"{key}={quote(json.dumps(value, ensure_ascii=False, separators=(',', ':')), safe='')}"
        for key, value in params.items()
    )


def join_url(*, room_url: str, token: str | None, role: str, display_name: str) -> str:
    """``room_url`` plus ``?jwt=`` when a token was minted, plus the observer fragment."""
    url = f"{room_url}?jwt={token}" if token else room_url
    if role == JoinRole.OBSERVER:
        url = f"{url}#{observer_fragment(display_name=display_name)}"
    return url
