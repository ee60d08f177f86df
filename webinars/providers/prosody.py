"""Self-hosted Jitsi's participant reports: Prosody's ``event_sync`` component (jitsi-contrib).

The school's Prosody posts JSON to ``<api_prefix>/events/occupant/joined`` and ``…/left`` (and
``…/room/created``, ``…/room/destroyed``) with the headers its config names; the portal asks for
``Authorization: Bearer <PROSODY_EVENT_SECRET>``. Setup and the exact fields are in
docs/register.md. The fields read here:

- ``event_name``: ``muc-occupant-joined`` | ``muc-occupant-left`` | ``muc-room-created`` |
  ``muc-room-destroyed``;
- ``room_name`` (the MUC node: our room name, behind ``[tenant]`` on a tenant deployment),
  ``room_jid`` (used when ``room_name`` is missing), ``is_breakout`` and ``breakout_room_id``
  (a breakout room's events name the main room);
- ``occupant.occupant_jid`` (one stay in the room; required), ``occupant.id`` (the
  ``context.user.id`` of our token: the user's pk or a guest's id), ``occupant.name``,
  ``occupant.joined_at`` and ``occupant.left_at`` (Unix seconds, Prosody's clock), and with
  ``include_user_info`` also ``occupant.moderator`` / ``occupant.affiliation``;
- ``created_at`` / ``destroyed_at`` of room events.

The module sends no delivery id, so the key is built from what identifies the fact: the event,
the room (and breakout), the occupant's jid and its times. A retry after a timeout repeats all
of them and is recognised as the same event. No database access here.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext as _

from webinars.providers.base import (
    ParticipantJoined,
    ParticipantLeft,
    ProviderEvent,
    RoomCreated,
    RoomDestroyed,
    WebhookInvalid,
    WebhookUnauthorized,
)

OCCUPANT_EVENTS = {"muc-occupant-joined": ParticipantJoined, "muc-occupant-left": ParticipantLeft}
ROOM_EVENTS = {"muc-room-created": RoomCreated, "muc-room-destroyed": RoomDestroyed}
_TENANT = re.compile(r"^\[[^\]]*\]")
MODERATOR_AFFILIATIONS = {"owner", "moderator", "teacher"}


def bearer_valid(*, header: str | None) -> bool:
    """``Authorization: Bearer <PROSODY_EVENT_SECRET>``, compared in constant time. An unset
    secret accepts nothing (the endpoint is then closed)."""
    secret = settings.PROSODY_EVENT_SECRET
    if not secret or not header:
        return False
    scheme, _sep, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), secret.encode())


def _seconds(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def room_name_of(payload: dict) -> str:
    """Our bare room name: ``room_name`` (or the node of ``room_jid``) without a ``[tenant]``."""
    name = _text(payload.get("room_name")) or _text(payload.get("room_jid")).split("@", 1)[0]
    return _TENANT.sub("", name).strip().lower()


def _is_moderator(occupant: dict) -> bool:
    if _text(occupant.get("moderator")).lower() == "true":
        return True
    return _text(occupant.get("affiliation")).lower() in MODERATOR_AFFILIATIONS


def payload_event(payload: dict, *, now: datetime) -> ProviderEvent:
    """One event_sync body → one event (a kind the portal does not act on: a plain event)."""
    kind = _text(payload.get("event_name"))
    room_name = room_name_of(payload)
    place = f"{room_name}/{_text(payload.get('breakout_room_id'))}"
    if kind in OCCUPANT_EVENTS:
        occupant = payload.get("occupant")
        if not isinstance(occupant, dict) or not _text(occupant.get("occupant_jid")):
            raise WebhookInvalid("occupant.occupant_jid", _("Missing occupant.occupant_jid."))
        jid = _text(occupant["occupant_jid"])
        joined, left = occupant.get("joined_at"), occupant.get("left_at")
        at = _seconds(left if kind == "muc-occupant-left" else joined) or now
        return OCCUPANT_EVENTS[kind](
            key=f"prosody:{kind}:{place}:{jid}:{joined}:{left}",
            kind=kind,
            room_name=room_name,
            at=at,
            session_id=jid,
            payload=payload,
            participant_id=jid,
            user_id=_text(occupant.get("id")),
            name=_text(occupant.get("name")),
            moderator=_is_moderator(occupant),
        )
    created, destroyed = payload.get("created_at"), payload.get("destroyed_at")
    event_class = ROOM_EVENTS.get(kind, ProviderEvent)
    return event_class(
        key=f"prosody:{kind}:{place}:{created}:{destroyed}",
        kind=kind or "unknown",
        room_name=room_name,
        at=_seconds(destroyed or created) or now,
        payload=payload,
    )


def parse_event_sync(
    *, headers: Mapping[str, str], body: bytes, now: datetime
) -> list[ProviderEvent]:
    """The secret first, then the JSON: an unauthorised caller learns nothing else."""
    if not bearer_valid(header=headers.get("Authorization")):
        raise WebhookUnauthorized(_("Missing or wrong Authorization: Bearer secret."))
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookInvalid("body", _("Send a JSON object.")) from None
    if not isinstance(payload, dict):
        raise WebhookInvalid("body", _("Send a JSON object."))
    if not room_name_of(payload):
        raise WebhookInvalid("room_name", _("Missing room_name."))
    return [payload_event(payload, now=now)]
