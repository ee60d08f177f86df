"""The join block shared by ``/join/<slug>/`` and MeetingPage: where the room stands for a
visitor (its phase), what the block shows, and a refused join in words (docs/public-pages.md).
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from webinars.choices import ClosedReason, RoomStatus
from webinars.lifecycle import room_window
from webinars.models import Lesson, Recording, Room
from webinars.public import caching
from webinars.public.forms import GuestJoinForm
from webinars.recordings import recording_public_url
from webinars.selectors.public_rooms import (
    room_for_public_page,
    room_latest_ready_recording,
    room_people,
)
from webinars.timezones import school_zone

# --- Phase ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """Where the room stands for a visitor: ``upcoming`` (with ``opens_at``), ``soon`` (the
    window is open but the lesson has not started), ``live``, ``ended`` or ``cancelled``."""

    name: str
    opens_at: datetime | None = None

    @property
    def joinable(self) -> bool:
        return self.name in {"soon", "live"}


def room_phase(*, room: Room, now: datetime | None = None) -> Phase:
    cancelled = room.closed_reason == ClosedReason.CANCELLED or (
        room.lesson_id is not None and room.lesson.is_cancelled
    )
    return _phase(
        start=room.scheduled_start,
        end=room.scheduled_end,
        status=room.status,
        cancelled=cancelled,
        now=now or timezone.now(),
    )


def lesson_phase(*, lesson: Lesson, now: datetime | None = None) -> Phase:
    """A lesson whose room the scheduler has not created yet: same rules as a room's."""
    return _phase(
        start=lesson.scheduled_start,
        end=lesson.scheduled_end,
        status=RoomStatus.SCHEDULED,
        cancelled=lesson.is_cancelled,
        now=now or timezone.now(),
    )


def _phase(*, start: datetime, end: datetime, status: str, cancelled: bool, now) -> Phase:
    if cancelled:
        return Phase("cancelled")
    opens, closes = room_window(start, end)
    if status == RoomStatus.CLOSED or now >= closes:
        return Phase("ended")
    if status == RoomStatus.OPEN or now >= start:
        return Phase("live")
    if now >= opens:
        return Phase("soon")
    return Phase("upcoming", opens_at=opens)


# --- Refusals in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A refusal the page decides itself (throttled, too early), shaped like ``JoinRefused``."""

    status_code: int
    rule: str = ""
    opens_at: datetime | None = None


def refusal_message(refusal) -> str:
    """A join refusal in words, in the visitor's language (never the API's raw JSON)."""
    code = getattr(refusal, "status_code", 400)
    opens_at = getattr(refusal, "opens_at", None)
    if code == 409:
        if opens_at:
            local = timezone.localtime(opens_at, timezone=school_zone())
            when = formats.date_format(local, "j E, H:i")
            return _("The room is not open yet. It opens on %(when)s (%(zone)s).") % {
                "when": when,
                "zone": settings.TIME_ZONE,
            }
        return _("The room is not open yet.")
    if code == 410:
        if getattr(refusal, "rule", "") == "lesson_cancelled":
            return _("This lesson was cancelled.")
        return _("This session has ended and its room is closed.")
    if code == 429:
        return _("Too many join attempts from your network. Please wait a minute and try again.")
    if code == 403:
        return _("You may not join this room.")
    if code == 404:
        return _("This link is not valid (any more).")
    return _("Joining failed. Please try again.")


# --- What the block shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class PublicRoomFacts:
    """What a join page shows that comes from the database: the room, its people, its
    newest READY recording."""

    room: Room
    people: list
    recording: Recording | None
    version: str = field(default_factory=lambda: secrets.token_hex(8))  # names its shared pages


def public_room_facts(*, slug: str) -> PublicRoomFacts | None:
    """The join page's facts for ``slug``, or None (404). They may come from the cache, up to
    JOIN_PAGE_CACHE_SECONDS old (``caching.join_page_facts``); the phase, the form, its CSRF
    token and the recording's (signed) URL are made per request anyway."""

    def load() -> PublicRoomFacts | None:
        room = room_for_public_page(slug=slug)
        return room_facts(room=room) if room is not None else None

    return caching.join_page_facts(slug=slug, load=load)


def room_facts(*, room: Room) -> PublicRoomFacts:
    """The facts of a room already read, fresh (a join's answer, a meeting page)."""
    return PublicRoomFacts(
        room=room,
        people=room_people(room=room),
        recording=room_latest_ready_recording(room=room),
    )


def join_block_context(
    *,
    request: HttpRequest,
    room: Room,
    form: GuestJoinForm | None = None,
    error: str = "",
    now: datetime | None = None,
    facts: PublicRoomFacts | None = None,
) -> dict:
    """Everything ``includes/join_block.html`` shows: people, time, phase, form, recording."""
    signed_in = request.user.is_authenticated
    facts = facts or room_facts(room=room)
    recording = facts.recording
    video_url = None
    if recording is not None:
        video_url = recording_public_url(
            recording=recording, user=request.user if signed_in else None
        )
    return {
        "room": room,
        "people": facts.people,
        "phase": room_phase(room=room, now=now),
        "form": form or GuestJoinForm(signed_in=signed_in),
        "join_error": error,
        "recording": recording,
        "video_url": video_url,
        "join_action": reverse("webinars:join", kwargs={"slug": room.public_slug}),
    }


# --- The moderator's embedded room ------------------------------------------------------------


def embed_context(*, result) -> dict:
    """What the moderator's embedded room needs, as the room's video platform describes it."""
    embed = result.room.provider.embed(room=result.room, link=result.link)
    return {
        "room": result.room,
        "join_url": result.join_url,
        "jitsi_domain": embed.domain,
        "jitsi_room_name": embed.room_name,
        "jitsi_jwt": embed.jwt,
        "external_api_url": embed.script_url,
        "start_recording": embed.start_recording,
        "expires_at": result.expires_at,
    }
