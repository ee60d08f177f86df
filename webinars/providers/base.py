"""What a video platform does for the portal, as one small interface (see ``docs/providers.md``).

The rest of the code speaks to a platform only through a ``VideoProvider`` that
``webinars.providers.provider_for(room)`` hands out. Everything here is plain data: no ORM, no
request. A room is passed in and read (``jitsi_domain``, ``jitsi_room``, ``jitsi_env``,
``window_end``, ``type``, ``lesson_id``, ``pk``); nothing is written back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from webinars.models import Room


@dataclass(frozen=True)
class Person:
    """Who a join link speaks for. ``id`` is a string: the user's pk, or a synthetic guest id."""

    id: str
    name: str
    email: str = ""
    avatar: str = ""


@dataclass(frozen=True)
class JoinLink:
    """One person's way into a room: the URL to open and what it carries.

    ``token`` is the signed credential inside ``url`` (None when the platform is run without
    tokens); ``expires_at`` is when the link stops letting its holder in.
    """

    url: str
    token: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Embed:
    """What the teacher's page needs to run the room inside the portal (an IFrame API).

    ``start_recording`` says whether the page itself must start the recording once the
    moderator is in (platforms that start recording on their own say False).
    """

    script_url: str
    domain: str
    room_name: str
    jwt: str
    start_recording: bool


# --- Events a platform reports ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProviderEvent:
    """One thing the platform says happened, in the portal's words.

    ``key`` is the platform's delivery id (a replay carries the same key), ``kind`` the
    platform's own name for the event (kept for the admin), ``room_name`` the bare room name
    (lower-case, "" when none was sent), ``at`` when it happened by the platform's clock (events
    may arrive out of order), ``session_id`` the platform's id of the conference or recording
    session, ``payload`` the body as received. A plain ``ProviderEvent`` is an event the portal
    records but does not act on.
    """

    key: str
    kind: str
    room_name: str
    at: datetime
    session_id: str = ""
    payload: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class RoomCreated(ProviderEvent):
    """The platform started the conference (its first participant arrived)."""


@dataclass(frozen=True, kw_only=True)
class RoomDestroyed(ProviderEvent):
    """The platform ended the conference (its last participant left)."""


@dataclass(frozen=True, kw_only=True)
class ParticipantEvent(ProviderEvent):
    """``participant_id`` names one stay in the room; ``user_id`` is the id our link gave the
    person (``Person.id``), "" when the platform did not echo it."""

    participant_id: str
    user_id: str = ""
    name: str = ""
    moderator: bool = False


@dataclass(frozen=True, kw_only=True)
class ParticipantJoined(ParticipantEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ParticipantLeft(ParticipantEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordingStarted(ProviderEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordingEnded(ProviderEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordingUploaded(ProviderEvent):
    """A recording is ready at the platform. ``link`` is its download link when the event
    carries one ("" when it must be asked for: ``VideoProvider.recording_source``)."""

    recording_id: str = ""
    link: str = ""
    file_ext: str = "mp4"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_secs: int | None = None


class WebhookUnauthorized(Exception):
    """The request does not prove it comes from the platform (answer 401, record nothing)."""


class WebhookInvalid(Exception):
    """A verified request the portal cannot read (answer 400 naming ``field``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- The interface --------------------------------------------------------------------------


class VideoProvider(ABC):
    """One video platform. Adapters are stateless singletons; settings are read per call.

    ``env`` is the ``Room.jitsi_env`` value the adapter serves (the column keeps its first
    platform's name); ``name`` is its short name in ``Recording.meta["source"]`` and logs.
    """

    env: ClassVar[str]
    name: ClassVar[str]

    @abstractmethod
    def default_domain(self) -> str:
        """The host new rooms are created on (stored in ``Room.jitsi_domain``)."""

    @abstractmethod
    def room_url(self, *, room: Room) -> str:
        """The room's address without any credential (stored in ``Room.join_url``)."""

    @abstractmethod
    def join_url(self, *, room: Room, person: Person, role: str, now: datetime) -> JoinLink:
        """A fresh link for ``person`` entering ``room`` as ``role`` (a ``JoinRole``).

        The role was decided by the portal; the link must make the platform enforce it and must
        not outlive the room's window.
        """

    @abstractmethod
    def embed(self, *, room: Room, link: JoinLink) -> Embed:
        """How the moderator's page runs ``link`` inside the portal."""

    @abstractmethod
    def end_room(self, *, room: Room) -> None:
        """Make the platform end the conference when the portal closes the room."""

    def parse_webhook(
        self, *, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> list[ProviderEvent]:
        """Verify a webhook request and read it into events (nothing is written).

        ``headers`` is case-insensitive (Django's ``request.headers``); ``body`` the raw bytes,
        which are what the platform signed. Raises ``WebhookUnauthorized`` or
        ``WebhookInvalid``. Platforms that send no webhooks keep this default.
        """
        raise NotImplementedError(f"{self.name} sends no webhooks.")

    def recording_source(self, *, event: RecordingUploaded) -> str:
        """The link to download the recording ``event`` announced (may ask the platform).

        Platforms whose recordings do not arrive through webhooks keep this default.
        """
        raise NotImplementedError(f"{self.name} announces no recordings by webhook.")
