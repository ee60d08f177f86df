"""Who may watch a room's recordings, and the short-lived URLs they watch them through.

Closed lessons' recordings are private to the people the role table (docs/roles.md) lets into
the lesson; open lessons' and open meetings' are public. S3 files are served through
presigned URLs (the bucket stays private); local files through the permission-checked view in
``webinars.media_urls``, with a TimestampSigner signature for private ones.
"""

import hmac

from django.conf import settings
from django.core import signing

from webinars import roles
from webinars.choices import RecordingStatus
from webinars.models import Recording, Room
from webinars.selectors.viewer import room_facts_for, viewer_facts_for

MEDIA_SIGNER_SALT = "webinars.recordings.media"


def recording_is_public(*, room: Room) -> bool:
    """Open lessons' and open meetings' recordings are public; closed lessons' are private."""
    return room_facts_for(room=room).recordings_are_public


def recording_visible_to(*, room: Room, user=None) -> bool:
    """May ``user`` (None or anonymous = nobody signed in) watch this room's recordings?

    Exactly the people the role table lets into the room — teacher and co-teachers, enrolled
    students, their parents, school staff, a meeting's hosts — or anyone when the lesson or
    meeting is open (``roles.may_watch_recordings``).
    """
    return roles.may_watch_recordings(viewer_facts_for(room=room, user=user))


def is_s3_storage(storage) -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a runtime dependency
        return False
    return isinstance(storage, S3Storage)


def recording_media_url(*, recording: Recording, signed: bool) -> str:
    """The local view's URL; ``signed`` adds a TimestampSigner signature valid for the TTL."""
    url = recording.file.storage.url(recording.file.name)
    if not signed:
        return url
    _value, stamp, signature = (
        signing.TimestampSigner(salt=MEDIA_SIGNER_SALT).sign(recording.file.name).rsplit(":", 2)
    )
    return f"{url}?t={stamp}&s={signature}"


def recording_media_signature_valid(*, name: str, stamp: str, signature: str) -> bool:
    """True when ``t``/``s`` of a local media URL sign ``name`` and are younger than the TTL."""
    try:
        value = signing.TimestampSigner(salt=MEDIA_SIGNER_SALT).unsign(
            f"{name}:{stamp}:{signature}", max_age=settings.RECORDING_SIGNED_URL_TTL
        )
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return value == name


def recording_public_url(*, recording: Recording, user=None) -> str | None:
    """A URL ``user`` can play now, or None (not ready, no file, or not theirs to watch).

    Private recordings get short-lived URLs (RECORDING_SIGNED_URL_TTL); public ones a presigned
    S3 URL too (the bucket stays private) or the plain local URL. Local URLs are site-relative.
    """
    if recording.status != RecordingStatus.READY or not recording.file:
        return None
    public = recording_is_public(room=recording.room)
    if not public and not recording_visible_to(room=recording.room, user=user):
        return None
    return recording_playback_url(recording=recording, public=public)


def recording_playback_url(*, recording: Recording, public: bool) -> str | None:
    """The playable URL of a READY recording whose viewer has already been checked."""
    if recording.status != RecordingStatus.READY or not recording.file:
        return None
    storage = recording.file.storage
    if is_s3_storage(storage):
        return storage.url(recording.file.name, expire=settings.RECORDING_SIGNED_URL_TTL)
    return recording_media_url(recording=recording, signed=not public)


def recording_secret_valid(*, given: str | None) -> bool:
    """``X-Recording-Secret`` check, constant-time; an unset secret accepts nothing."""
    expected = settings.RECORDING_WEBHOOK_SECRET
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
