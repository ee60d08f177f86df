"""Self-hosted Jitsi Meet: HS256 join tokens, room URLs, the embedded IFrame API room.

What Jitsi actually checks (its Prosody token plugin and three moderator plugins) is written
down in ``docs/tokens.md``; in short: ``typ`` JWT, the server's algorithm,
``iss``/``aud``/``sub``/``room`` (the exact room — ``*`` would open every room), ``nbf``/``exp``
with no clock leeway (so ``nbf`` is a minute in the past), and every ``context.user`` value a
string. Moderator plugins disagree on where they look, so the moderator flag is written in all
three conventions, and its negative for everyone else. No database access here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from webinars.choices import JitsiEnv, JoinRole
from webinars.providers.base import Embed, JoinLink, Person, VideoProvider
from webinars.providers.prosody import parse_event_sync

if TYPE_CHECKING:
    from webinars.models import Room

NOT_BEFORE_SKEW = timedelta(seconds=60)
MODERATOR_FEATURES = ("recording", "livestreaming", "transcription")
OBSERVER_TOOLBAR = ("chat", "raisehand", "tileview", "fullscreen", "settings", "hangup")


def token_expiry(*, now: datetime, window_end: datetime) -> datetime:
    """``min(now + JITSI_JWT_TTL_MIN, window end)``: a token never outlives its room's window."""
    return min(now + timedelta(minutes=settings.JITSI_JWT_TTL_MIN), window_end)


def room_group(room: Room) -> str:
    """``context.group``: the lesson (or meeting room) the token belongs to, for Jitsi's logs."""
    return f"{room.type.lower()}-{room.lesson_id or room.pk}"


def token_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    room_name: str,
    user: Person,
    role: str,
    group: str,
    now: datetime,
    expires_at: datetime,
) -> dict:
    """The JWT payload of one join, in the conventions every Jitsi deployment reads."""
    moderator = role == JoinRole.MODERATOR
    context_user = {
        "id": str(user.id),
        "name": str(user.name),
        "email": str(user.email),
        "avatar": str(user.avatar),
        "moderator": "true" if moderator else "false",
        "affiliation": "owner" if moderator else "member",
    }
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


def url_fragment(params: dict) -> str:
    """Jitsi's URL-fragment overrides. Jitsi JSON-parses each value after URL-decoding it, so
    strings carry their quotes. They are cosmetic (anyone can edit a URL); the token is what
    enforces the role."""
    return "&".join(
        f"{key}={quote(json.dumps(value, ensure_ascii=False, separators=(',', ':')), safe='')}"
        for key, value in params.items()
    )


def observer_fragment(*, display_name: str) -> str:
    """For observers: muted, no app nag, a short toolbar, and their name."""
    return url_fragment(
        {
            "config.startWithAudioMuted": True,
            "config.startWithVideoMuted": True,
            "config.disableDeepLinking": True,
            "config.toolbarButtons": list(OBSERVER_TOOLBAR),
            "userInfo.displayName": display_name,
        }
    )


def link_with_token(*, room_url: str, token: str | None, role: str, display_name: str) -> str:
    """``room_url`` plus ``?jwt=`` when a token was minted, plus the fragment: the observer's
    restrictions, and the person's name for everyone when no token carries it (a Jitsi
    without JWT would otherwise ask each student who they are)."""
    url = f"{room_url}?jwt={token}" if token else room_url
    if role == JoinRole.OBSERVER:
        return f"{url}#{observer_fragment(display_name=display_name)}"
    if token is None:
        return f"{url}#{url_fragment({'userInfo.displayName': display_name})}"
    return url


class JitsiProvider(VideoProvider):
    """A school's own Jitsi Meet with JWT authentication (``app_secret``, HS256).

    Tokens are minted only when ``JITSI_JWT_ENABLED``; without them the link is the bare room
    URL (a Jitsi without authentication). Recordings come from the school's own Jibri, which
    leaves files on disk (``webinars.recordings`` ingests them); participants are reported by
    Prosody's event_sync component (``parse_webhook``).
    """

    env = JitsiEnv.SELF_HOSTED
    name = "jitsi"

    def default_domain(self) -> str:
        return settings.JITSI_DOMAIN

    def room_url(self, *, room: Room) -> str:
        return f"https://{room.jitsi_domain}/{room.jitsi_room}"

    def token_claims(
        self, *, room_name: str, user: Person, role: str, group: str, now, expires_at
    ) -> dict:
        return token_claims(
            issuer=settings.JITSI_JWT_APP_ID,
            audience=settings.JITSI_JWT_AUD,
            subject=settings.JITSI_JWT_SUB,
            room_name=room_name,
            user=user,
            role=role,
            group=group,
            now=now,
            expires_at=expires_at,
        )

    def sign_token(self, *, claims: dict) -> str:
        if not settings.JITSI_JWT_SECRET:
            raise ImproperlyConfigured("JITSI_JWT_ENABLED needs JITSI_JWT_SECRET.")
        return jwt.encode(
            claims, settings.JITSI_JWT_SECRET, algorithm="HS256", headers={"typ": "JWT"}
        )

    def join_url(self, *, room: Room, person: Person, role: str, now: datetime) -> JoinLink:
        """Jitsi checks the token at connect and at room join only, never during the meeting,
        so every join gets a fresh one."""
        expires_at = token_expiry(now=now, window_end=room.window_end)
        token = None
        if settings.JITSI_JWT_ENABLED:
            claims = self.token_claims(
                room_name=room.jitsi_room,
                user=person,
                role=role,
                group=room_group(room),
                now=now,
                expires_at=expires_at,
            )
            token = self.sign_token(claims=claims)
        url = link_with_token(
            room_url=self.room_url(room=room), token=token, role=role, display_name=person.name
        )
        return JoinLink(url=url, token=token, expires_at=expires_at)

    def embed(self, *, room: Room, link: JoinLink) -> Embed:
        """``JitsiMeetExternalAPI(domain, {roomName, jwt})``, its script beside the room.

        Split from the room URL, so a tenant path (``https://d/tenant/room``, or JaaS's
        ``https://8x8.vc/AppID/room``) becomes part of the room name and of the script's path.
        File recording needs a moderator's command, so the page starts it.
        """
        parts = urlsplit(self.room_url(room=room))
        room_path = parts.path.lstrip("/")
        prefix = room_path.rsplit("/", 1)[0] + "/" if "/" in room_path else ""
        return Embed(
            script_url=f"https://{parts.netloc}/{prefix}external_api.js",
            domain=parts.netloc,
            room_name=room_path,
            jwt=link.token or "",
            start_recording=True,
        )

    def parse_webhook(self, *, headers, body: bytes, now: datetime | None = None) -> list:
        """Prosody's ``event_sync`` posts (participants joining and leaving), see
        ``providers/prosody.py``."""
        from django.utils import timezone

        return parse_event_sync(headers=headers, body=body, now=now or timezone.now())

    def end_room(self, *, room: Room) -> None:
        """Nothing to call: a Jitsi conference exists only while people are in it, and Jitsi
        offers no HTTP API to end one. Closing the room in the portal stops new links, and every
        token already handed out expires by the window's end (``token_expiry``), so nobody can
        connect or reconnect afterwards; people still inside finish their call."""
