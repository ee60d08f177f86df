"""8x8 Jitsi as a Service: RS256 tokens with ``kid``, ``8x8.vc/<AppID>/<room>``, its webhooks.

JaaS runs the same Jitsi client as a self-hosted server, so it reuses ``jitsi``'s claims, URL
fragment and embed, with JaaS's issuer, audience and subject. Its webhooks are signed
(``X-Jaas-Signature``) and carry one event per request in an envelope (``idempotencyKey``,
``eventType``, ``sessionId``, ``timestamp`` in ms, ``fqn`` = ``<AppID>/<room>``, ``data``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from webinars.choices import JitsiEnv, JoinRole
from webinars.providers.base import (
    ParticipantEvent,
    ParticipantJoined,
    ParticipantLeft,
    Person,
    ProviderEvent,
    RecordingEnded,
    RecordingStarted,
    RecordingUploaded,
    RoomCreated,
    RoomDestroyed,
    WebhookInvalid,
    WebhookUnauthorized,
)
from webinars.providers.jitsi import JitsiProvider, token_claims

if TYPE_CHECKING:
    from webinars.models import Room

JAAS_DOMAIN = "8x8.vc"
SIGNATURE_HEADER = "X-Jaas-Signature"
EVENT_TYPES: dict[str, type[ProviderEvent]] = {
    "ROOM_CREATED": RoomCreated,
    "ROOM_DESTROYED": RoomDestroyed,
    "PARTICIPANT_JOINED": ParticipantJoined,
    "PARTICIPANT_LEFT": ParticipantLeft,
    "RECORDING_STARTED": RecordingStarted,
    "RECORDING_ENDED": RecordingEnded,
    "RECORDING_UPLOADED": RecordingUploaded,
}


@lru_cache(maxsize=4)
def _private_key(pem: str):
    """Parse the PEM once per process: RSA key loading costs more than signing."""
    return load_pem_private_key(pem.encode(), password=None)


def signature_valid(*, header: str | None, body: bytes, now: datetime) -> bool:
    """``t=<unix s>,v1=<base64 HMAC-SHA256(secret, t + "." + body)>``.

    The timestamp must be within JAAS_WEBHOOK_TOLERANCE_SEC of now (replays of old captures
    fail); every ``v1`` is compared in constant time; an unset secret accepts nothing.
    """
    secret = settings.JAAS_WEBHOOK_SECRET
    if not secret or not header:
        return False
    stamp, candidates = None, []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1" and value:
            candidates.append(value)
    if not stamp or not stamp.isdigit() or not candidates:
        return False
    if abs(now.timestamp() - int(stamp)) > settings.JAAS_WEBHOOK_TOLERANCE_SEC:
        return False
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    ok = False
    for candidate in candidates:
        ok |= hmac.compare_digest(expected, candidate.encode())
    return ok


def _ms(value) -> datetime | None:
    """JaaS milliseconds → aware UTC; None for anything that is not a plausible time."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _seconds(value) -> int | None:
    """A duration in seconds (0 … 7 days), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if 0 <= value <= 7 * 86400 else None


def envelope_event(payload: dict, *, now: datetime) -> ProviderEvent:
    """One JaaS envelope → one event. Odd values are read as absent, never raised on."""
    kind = str(payload.get("eventType") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    common = {
        "key": str(payload.get("idempotencyKey") or ""),
        "kind": kind,
        "room_name": str(payload.get("fqn") or "").rsplit("/", 1)[-1].strip().lower(),
        "at": _ms(payload.get("timestamp")) or now,
        "session_id": str(payload.get("sessionId") or ""),
        "payload": payload,
    }
    event_class = EVENT_TYPES.get(kind, ProviderEvent)
    if issubclass(event_class, ParticipantEvent):
        return event_class(
            **common,
            participant_id=str(data.get("participantId") or data.get("participantJid") or ""),
            user_id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            moderator=str(data.get("moderator")).lower() == "true",
        )
    if event_class is RecordingUploaded:
        return RecordingUploaded(
            **common,
            recording_id=str(data.get("recordingSessionId") or ""),
            link=str(data.get("preAuthenticatedLink") or ""),
            started_at=_ms(data.get("startTimestamp")),
            ended_at=_ms(data.get("endTimestamp")),
            duration_secs=_seconds(data.get("durationSec")),
        )
    return event_class(**common)


class JaasProvider(JitsiProvider):
    """8x8's hosted Jitsi: tokens signed with the app's RSA key, rooms under the AppID."""

    env = JitsiEnv.JAAS
    name = "jaas"

    def default_domain(self) -> str:
        return JAAS_DOMAIN

    def room_url(self, *, room: Room) -> str:
        return f"https://{room.jitsi_domain}/{settings.JAAS_APP_ID}/{room.jitsi_room}"

    def token_claims(
        self, *, room_name: str, user: Person, role: str, group: str, now, expires_at
    ) -> dict:
        """JaaS's issuer, audience and subject (the AppID); ``room`` stays the bare name
        (``<AppID>/<room>`` is refused). Observers are hidden from the recording."""
        claims = token_claims(
            issuer="chat",
            audience="jitsi",
            subject=settings.JAAS_APP_ID,
            room_name=room_name,
            user=user,
            role=role,
            group=group,
            now=now,
            expires_at=expires_at,
        )
        if role == JoinRole.OBSERVER:
            # A real boolean: lib-jitsi-meet tests it with Boolean(), so the string "false"
            # would hide everyone. Left out for the others rather than written as a non-string.
            claims["context"]["user"]["hidden-from-recorder"] = True
        return claims

    def sign_token(self, *, claims: dict) -> str:
        if not (settings.JAAS_PRIVATE_KEY and settings.JAAS_KID and settings.JAAS_APP_ID):
            raise ImproperlyConfigured(
                "JaaS tokens need JAAS_APP_ID, JAAS_KID and JAAS_PRIVATE_KEY(_PATH)."
            )
        return jwt.encode(
            claims,
            _private_key(settings.JAAS_PRIVATE_KEY),
            algorithm="RS256",
            headers={"kid": settings.JAAS_KID, "typ": "JWT"},
        )

    def end_room(self, *, room: Room) -> None:
        """Nothing to call, as for self-hosted Jitsi: the portal stops minting links and the
        tokens it handed out expire by the window's end; JaaS ends the conference when the
        last participant leaves (a ROOM_DESTROYED webhook follows)."""

    def parse_webhook(
        self, *, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> list[ProviderEvent]:
        """The signature first (over the raw bytes), then the JSON: an unsigned request
        learns nothing about what the portal accepts."""
        now = now or timezone.now()
        if not signature_valid(header=headers.get(SIGNATURE_HEADER), body=body, now=now):
            raise WebhookUnauthorized(_("Missing, wrong or stale X-Jaas-Signature."))
        try:
            payload = json.loads(body)
        except ValueError:
            raise WebhookInvalid("body", _("Send a JSON object.")) from None
        if not isinstance(payload, dict):
            raise WebhookInvalid("body", _("Send a JSON object."))
        if not payload.get("idempotencyKey"):
            raise WebhookInvalid("idempotencyKey", _("Missing idempotencyKey."))
        return [envelope_event(payload, now=now)]

    def recording_source(self, *, event: RecordingUploaded) -> str:
        """The event's ``preAuthenticatedLink`` (valid 24 h: JaaS keeps recordings a day)."""
        return event.link
