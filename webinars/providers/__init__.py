"""Video platforms behind one interface (``base.VideoProvider``; see ``docs/providers.md``).

``provider_for(room)`` / ``provider_for_env(env)`` are the only way in: nothing outside this
package imports an adapter module. Adapters import no models, so ``webinars.models`` may import
this package.
"""

from django.core.exceptions import ImproperlyConfigured

from webinars.providers.base import (
    Embed,
    JoinLink,
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
    VideoProvider,
    WebhookInvalid,
    WebhookUnauthorized,
)
from webinars.providers.jaas import JaasProvider
from webinars.providers.jitsi import JitsiProvider

_PROVIDERS: dict[str, VideoProvider] = {
    provider.env: provider for provider in (JitsiProvider(), JaasProvider())
}


def provider_for_env(env: str) -> VideoProvider:
    """The adapter for a ``Room.jitsi_env`` value (or the ``JITSI_ENV`` setting)."""
    try:
        return _PROVIDERS[env]
    except KeyError:
        known = ", ".join(sorted(_PROVIDERS))
        raise ImproperlyConfigured(f"No video provider for {env!r} (known: {known}).") from None


def provider_for(room) -> VideoProvider:
    """The platform ``room`` lives on."""
    return provider_for_env(room.jitsi_env)


__all__ = [
    "Embed",
    "JoinLink",
    "ParticipantEvent",
    "ParticipantJoined",
    "ParticipantLeft",
    "Person",
    "ProviderEvent",
    "RecordingEnded",
    "RecordingStarted",
    "RecordingUploaded",
    "RoomCreated",
    "RoomDestroyed",
    "VideoProvider",
    "WebhookInvalid",
    "WebhookUnauthorized",
    "provider_for",
    "provider_for_env",
]
