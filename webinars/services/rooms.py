"""Writes on rooms: a lesson's one room, opening and closing it, lesson edits (SPEC §3).

The scheduler tick that drives these on time lives in ``webinars.services.tick``.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.models import (
    Lesson,
    Recording,
    Room,
    random_token,
)
from webinars.providers import provider_for_env

logger = logging.getLogger("webinars.rooms")


def room_lead() -> timedelta:
    return timedelta(minutes=settings.ROOM_OPEN_LEAD_MIN)


def room_grace() -> timedelta:
    return timedelta(minutes=settings.ROOM_CLOSE_GRACE_MIN)


def open_room_horizon() -> timedelta:
    return timedelta(hours=settings.OPEN_LESSONS_HORIZON_HOURS)


def room_window_contains(*, start: datetime, end: datetime, now: datetime) -> bool:
    """Whether ``now`` lies in ``[start − lead, end + grace)``, the window a room lives in."""
    return start - room_lead() <= now < end + room_grace()


def lesson_room_window(*, lesson: Lesson) -> tuple[datetime, datetime]:
    """``(opens, closes)``: when the lesson's room is created/joinable and when it closes."""
    return lesson.scheduled_start - room_lead(), lesson.scheduled_end + room_grace()


def _new_room(**fields) -> Room:
    provider = provider_for_env(settings.JITSI_ENV)
    room = Room(jitsi_env=provider.env, jitsi_domain=provider.default_domain(), **fields)
    room.join_url = provider.room_url(room=room)
    return room


def lesson_room_build(lesson: Lesson) -> Room:
    """An unsaved room for ``lesson``, with a fresh random Jitsi name and public slug."""
    return _new_room(
        type=RoomType.LESSON,
        lesson=lesson,
        is_open=lesson.is_open,
        scheduled_start=lesson.scheduled_start,
        scheduled_end=lesson.scheduled_end,
    )


def lessons_rooms_ensure(*, lessons: list[Lesson]) -> list[Room]:
    """The rooms of ``lessons`` in order, creating the missing ones in one bulk insert.

    The open-lessons feed hands out public links up to 48 h ahead (SPEC §3 "Create"), so every
    listed open lesson needs its room. One ``bulk_create(ignore_conflicts=True)`` plus one read
    keeps the query count flat however many rooms are missing, and a concurrent creator
    (scheduler, API) simply wins the unique lesson column; we then read its row.
    """
    missing = [lesson for lesson in lessons if not _has_room(lesson)]
    if missing:
        Room.objects.bulk_create(
            [lesson_room_build(lesson) for lesson in missing], ignore_conflicts=True
        )
        by_lesson = {
            room.lesson_id: room
            for room in Room.objects.filter(lesson_id__in=[lesson.pk for lesson in missing])
        }
        for lesson in missing:
            lesson.room = by_lesson[lesson.pk]
            lesson.room.lesson = lesson
        logger.info("feed created rooms count=%s", len(missing))
    return [lesson.room for lesson in lessons]


def _has_room(lesson: Lesson) -> bool:
    try:
        return lesson.room is not None
    except Room.DoesNotExist:
        return False


def room_ensure_for_lesson(*, lesson: Lesson) -> tuple[Room, bool]:
    """The lesson's room, created if missing; returns ``(room, created)``.

    Safe under concurrent callers (API, scheduler, feed): the one-to-one column is unique,
    so a losing insert raises IntegrityError inside its savepoint and we read the winner's row.
    """
    existing = Room.objects.filter(lesson_id=lesson.pk).first()
    if existing is not None:
        return existing, False
    room = lesson_room_build(lesson)
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError:
        return Room.objects.get(lesson_id=lesson.pk), False
    logger.info("room created room=%s lesson=%s", room.pk, lesson.pk)
    return room, True


def room_ensure_for_meeting(*, page) -> Room:
    """The MeetingPage's MEETING room, created on first publish and kept in step afterwards.

    Title, openness and schedule follow the page while the room is not CLOSED; a closed
    meeting's room keeps its history. The page row is updated with ``.update()`` so that the
    call is safe from inside Wagtail's ``page_published`` signal (no new revision, no recursion).
    """
    from webinars.pages import MeetingPage

    with transaction.atomic():
        locked = MeetingPage.objects.select_for_update().only("pk", "room").get(pk=page.pk)
        room_id = page.room_id or locked.room_id
        room = Room.objects.filter(pk=room_id).first() if room_id else None
        if room is None:
            room = _new_room(
                type=RoomType.MEETING,
                title=page.title[:200],
                is_open=page.is_open,
                scheduled_start=page.scheduled_start,
                scheduled_end=page.scheduled_end,
            )
            room.full_clean()
            room.save()
            logger.info("room created room=%s meeting_page=%s", room.pk, page.pk)
        elif room.status != RoomStatus.CLOSED:
            changed = {
                "title": page.title[:200],
                "is_open": page.is_open,
                "scheduled_start": page.scheduled_start,
                "scheduled_end": page.scheduled_end,
            }
            changed = {k: v for k, v in changed.items() if getattr(room, k) != v}
            if changed:
                for name, value in changed.items():
                    setattr(room, name, value)
                room.save(update_fields=[*changed, "updated_at"])
                logger.info(
                    "room updated room=%s meeting_page=%s fields=%s",
                    room.pk,
                    page.pk,
                    ",".join(sorted(changed)),
                )
        if locked.room_id != room.pk:
            MeetingPage.objects.filter(pk=page.pk).update(room=room)
        page.room = room
    return room


def _meeting_index():
    """The MeetingIndexPage, made under the site's root HomePage the first time it is needed."""
    from wagtail.models import Site

    from webinars.pages import MeetingIndexPage

    index = MeetingIndexPage.objects.first()
    if index is not None:
        return index
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    if site is None:
        raise ValidationError(_("The site has no root page to put meetings under."))
    index = MeetingIndexPage(title=_("Meetings"), slug="meetings")
    site.root_page.specific.add_child(instance=index)
    index.save_revision().publish()
    logger.info("meeting index created page=%s", index.pk)
    return index


def meeting_create(
    *,
    host,
    title: str,
    scheduled_start: datetime,
    scheduled_end: datetime,
    is_open: bool = True,
) -> Room:
    """A published MeetingPage hosted by ``host``, and its room (made by the publish signal).

    Going through a real page keeps API-made meetings editable in the Wagtail admin like any
    other, with a revision history and the same public page.
    """
    from webinars.pages import MeetingPage

    base = slugify(title, allow_unicode=True)[:40] or "meeting"
    with transaction.atomic():
        index = _meeting_index()
        page = MeetingPage(
            title=title,
            slug=f"{base}-{random_token(4)}",
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end,
            is_open=is_open,
            owner=host,
        )
        page.hosts = [host]
        index.add_child(instance=page)
        # The API already decided the caller may create meetings (staff), not Wagtail roles.
        page.save_revision(user=host).publish(user=host, skip_permission_checks=True)
        room = room_ensure_for_meeting(page=page)
    logger.info("meeting created page=%s room=%s host=%s", page.pk, room.pk, host.pk)
    return room


def recordings_start(room_ids: list[int], now: datetime) -> None:
    """The latest recording of each opened room goes IN_PROGRESS (a new row when none is open).

    Bulk over many rooms: one read of their recordings, one insert, one update.
    """
    latest: dict[int, tuple[int, str, str]] = {}
    rows = (
        Recording.objects.filter(room_id__in=room_ids)
        .order_by("created_at", "id")
        .values_list("room_id", "id", "status", "file")
    )
    for room_id, rec_id, rec_status, rec_file in rows:
        latest[room_id] = (rec_id, rec_status, rec_file)
    new_rows, resumed = [], []
    for room_id in room_ids:
        rec = latest.get(room_id)
        if rec is None or rec[1] in (RecordingStatus.READY, RecordingStatus.FAILED):
            new_rows.append(
                Recording(room_id=room_id, status=RecordingStatus.IN_PROGRESS, started_at=now)
            )
        elif rec[1] == RecordingStatus.PENDING and not rec[2]:
            resumed.append(rec[0])
    if new_rows:
        Recording.objects.bulk_create(new_rows)
    if resumed:
        Recording.objects.filter(id__in=resumed).update(
            status=RecordingStatus.IN_PROGRESS, updated_at=now
        )
        Recording.objects.filter(id__in=resumed, started_at__isnull=True).update(started_at=now)


def recordings_stop(room_ids: list[int], now: datetime) -> None:
    """IN_PROGRESS recordings of closed rooms wait for their file (PENDING)."""
    Recording.objects.filter(room_id__in=room_ids, status=RecordingStatus.IN_PROGRESS).update(
        status=RecordingStatus.PENDING, ended_at=now, updated_at=now
    )


def room_open(*, room: Room, now: datetime | None = None) -> Room:
    """SCHEDULED → OPEN; the room's latest recording goes IN_PROGRESS.

    The row is locked first, so a concurrent tick or request cannot open it twice; opening an
    OPEN or CLOSED room changes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = Room.objects.select_for_update().get(pk=room.pk)
        if current.status != RoomStatus.SCHEDULED:
            _refresh(room, current)
            return room
        room.status = RoomStatus.OPEN
        room.started_at = now
        room.save(update_fields=["status", "started_at", "updated_at"])
        recordings_start([room.pk], now)
    logger.info("room opened room=%s lesson=%s", room.pk, room.lesson_id)
    return room


def room_close(
    *, room: Room, reason: str = ClosedReason.ENDED, now: datetime | None = None
) -> Room:
    """→ CLOSED; an IN_PROGRESS recording becomes PENDING (waiting for the file).

    Idempotent: closing a CLOSED room keeps its original time and reason.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = Room.objects.select_for_update().get(pk=room.pk)
        if current.status == RoomStatus.CLOSED:
            _refresh(room, current)
            return room
        room.status = RoomStatus.CLOSED
        room.ended_at = now
        room.closed_reason = reason
        room.save(update_fields=["status", "ended_at", "closed_reason", "updated_at"])
        recordings_stop([room.pk], now)
    logger.info("room closed room=%s lesson=%s reason=%s", room.pk, room.lesson_id, reason)
    return room


def _refresh(room: Room, current: Room) -> None:
    for name in ("status", "started_at", "ended_at", "closed_reason", "updated_at"):
        setattr(room, name, getattr(current, name))


# --- Lesson edits -------------------------------------------------------------------------


def room_follow_lesson(*, lesson: Lesson, now: datetime | None = None) -> Room | None:
    """Keep the lesson's room in step after the lesson was saved (SPEC §2 rules).

    Cancelled → the room closes with reason ``cancelled``. Rescheduled → an unclosed room moves
    with it (back to SCHEDULED when its new start lies in the future). Un-cancelled while its
    window has not passed → the room is SCHEDULED again. A room closed for any other reason keeps
    its history.
    """
    now = now or timezone.now()
    room = Room.objects.filter(lesson_id=lesson.pk).first()
    if room is None:
        return None
    if lesson.is_cancelled:
        if room.status != RoomStatus.CLOSED:
            room_close(room=room, reason=ClosedReason.CANCELLED, now=now)
        return room
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room.pk)
        revivable = (
            room.status == RoomStatus.CLOSED
            and room.closed_reason == ClosedReason.CANCELLED
            and now < lesson.scheduled_end + room_grace()
        )
        if room.status == RoomStatus.CLOSED and not revivable:
            return room
        fields = {
            "scheduled_start": lesson.scheduled_start,
            "scheduled_end": lesson.scheduled_end,
            "is_open": lesson.is_open,
        }
        if revivable or (room.status == RoomStatus.OPEN and lesson.scheduled_start > now):
            fields.update(
                status=RoomStatus.SCHEDULED, started_at=None, ended_at=None, closed_reason=""
            )
        changed = {k: v for k, v in fields.items() if getattr(room, k) != v}
        if not changed:
            return room
        for name, value in changed.items():
            setattr(room, name, value)
        room.save(update_fields=[*changed, "updated_at"])
        if changed.get("status") == RoomStatus.SCHEDULED:
            recordings_stop([room.pk], now)  # the lesson no longer runs now
    logger.info(
        "room rescheduled room=%s lesson=%s start=%s end=%s status=%s",
        room.pk,
        lesson.pk,
        room.scheduled_start.isoformat(),
        room.scheduled_end.isoformat(),
        room.status,
    )
    return room


def lesson_delete(*, lesson: Lesson) -> None:
    """Delete a lesson with its room and unfinished recordings; refuse if a recording is READY.

    Recordings are PROTECTed by the database: a READY file must never disappear because someone
    tidied the timetable. Files of non-READY recordings are removed from storage too.
    """
    room = Room.objects.filter(lesson_id=lesson.pk).first()
    if room is not None and room.recordings.filter(status=RecordingStatus.READY).exists():
        raise ValidationError(
            _(
                "“%(lesson)s” cannot be deleted: its room has a finished recording. "
                "Cancel the lesson instead, or delete the recording first."
            )
            % {"lesson": lesson.title}
        )
    with transaction.atomic():
        if room is not None:
            for recording in room.recordings.all():
                if recording.file:
                    recording.file.delete(save=False)
                recording.delete()
        lesson_id = lesson.pk
        lesson.delete()
    logger.info("lesson deleted lesson=%s room=%s", lesson_id, room.pk if room else None)


def meeting_page_delete_guard(*, page) -> None:
    """Refuse (ValidationError) to delete a MeetingPage whose room has a READY recording.

    For Wagtail's ``before_delete_page`` hook: the room's recordings are PROTECTed, and a
    finished recording of a public meeting must not vanish with an editor's tidy-up.
    """
    room_id = getattr(page, "room_id", None)
    if room_id and Recording.objects.filter(room_id=room_id, status=RecordingStatus.READY).exists():
        raise ValidationError(
            _(
                "“%(page)s” cannot be deleted: its room has a finished recording. "
                "Unpublish the page instead, or delete the recording first."
            )
            % {"page": page.title}
        )
