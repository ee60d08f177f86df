"""Who may watch a room's recordings, and the short-lived URLs they watch them through.

Closed lessons' recordings are private to the people the §4 table lets into the lesson
(``webinars.roles``); open lessons' and open meetings' are public. S3 files are served through
presigned URLs (the bucket stays private); local files through the permission-checked view in
``webinars.media_urls``, with a TimestampSigner signature for private ones.
"""

import hmac

from django.conf import settings
from django.core import signing

from webinars import roles
from webinars.choices import RecordingStatus, RoomType
from webinars.models import Enrollment, Guardianship, Recording, Room

MEDIA_SIGNER_SALT = "webinars.recordings.media"


def meeting_page_of(room: Room):
    try:
        return room.meeting_page
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist: a meeting without its page
        return None


def recording_is_public(*, room: Room) -> bool:
    """Open lessons' and open meetings' recordings are public; closed lessons' are private."""
    if room.type == RoomType.MEETING:
        page = meeting_page_of(room)
        return page.is_open if page is not None else room.is_open
    return bool(room.lesson_id and room.lesson.is_open)


def recording_visible_to(*, room: Room, user=None) -> bool:
    """May ``user`` (None or anonymous = nobody signed in) watch this room's recordings?

    Exactly the people the §4 table lets into the room — teacher and co-teachers, enrolled
    students, their parents, school staff — or anyone when the lesson or meeting is open.
    """
    user_id = user.pk if user is not None and user.is_authenticated else None
    staff = False
    if user_id is not None:
        staff = roles.is_school_staff(
            is_staff=user.is_staff,
            is_superuser=user.is_superuser,
            group_names=set(user.groups.values_list("name", flat=True)),
        )
    if room.type == RoomType.MEETING:
        page = meeting_page_of(room)
        host_ids = set(page.hosts.values_list("pk", flat=True)) if page is not None else set()
        decision = roles.decide_meeting_role(
            user_id=user_id,
            host_ids=host_ids,
            is_school_staff=staff,
            meeting_is_open=recording_is_public(room=room),
        )
        return decision.granted
    lesson = room.lesson
    enrolled = is_parent = co_teacher = False
    if user_id is not None:
        co_teacher = lesson.co_teachers.filter(pk=user_id).exists()
        enrolled = Enrollment.objects.filter(
            student_id=user_id, subject_id=lesson.subject_id
        ).exists()
        is_parent = Guardianship.objects.filter(
            parent_id=user_id, child__enrollments__subject_id=lesson.subject_id
        ).exists()
    decision = roles.decide_lesson_role(
        user_id=user_id,
        teacher_id=lesson.teacher_id,
        is_co_teacher=co_teacher,
        is_enrolled=enrolled,
        is_parent_of_enrolled=is_parent,
        is_school_staff=staff,
        lesson_is_open=lesson.is_open,
        via_public_link=True,
    )
    return decision.granted


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
