"""Notices by email: plan them once per person, send each once (docs/notices.md).

Two steps, so that nothing is told twice and nothing is lost:

1. **Plan**: one ``Notice`` row per person for one version of one fact (a lesson's revision,
   a recording), written with ``bulk_create(ignore_conflicts=True)`` against the unique
   constraints. A second tick, a restarted worker or a lesson saved twice plans the same rows
   again and inserts nothing.
2. **Send**: waiting rows are claimed (``pending`` → ``sending``: locked with ``SKIP LOCKED``
   on PostgreSQL, so two workers never take the same row), written in the person's language
   and sent over one connection; each ends ``sent`` (with ``sent_at``) or ``failed`` (with the
   error). A row claimed by a worker that died stays ``sending``: at most once, never twice.

Facts reach here through the domain events (``webinars.events``): lessons cancelled or moved,
recordings ready, rooms closed; reminders come from the every-minute tick.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_q.tasks import async_task

from webinars.choices import ClosedReason, NoticeKind, NoticeStatus, RecordingStatus
from webinars.events import lesson_cancelled, lesson_updated, recording_state_changed, room_closed
from webinars.models import Lesson, Notice, Recording, Room
from webinars.selectors.calendars import lesson_page_path
from webinars.selectors.notices import (
    Recipient,
    children_named,
    lesson_audience,
    notices_claimed,
    preferences_of,
    room_hosts,
)
from webinars.selectors.register import register_csv, register_rows, room_register

logger = logging.getLogger("webinars.notices")

SEND_BATCH = 200


# --- Plan ----------------------------------------------------------------------------------------


def notices_plan(
    *,
    kind: str,
    people: Sequence[Recipient],
    version: int,
    lesson: Lesson | None = None,
    room: Room | None = None,
) -> int:
    """One waiting notice per person (none if it was planned before); returns how many rows
    were offered. People who opted out of reminders, or have no address, are recorded as not
    told, so the admin shows why."""
    preferences = preferences_of(recipient.user.pk for recipient in people)
    rows = []
    for recipient in people:
        user = recipient.user
        chosen = preferences.get(user.pk)
        status = NoticeStatus.PENDING
        if kind == NoticeKind.REMINDER and chosen is not None and chosen.reminders_opt_out:
            status = NoticeStatus.OPTED_OUT
        elif not user.email:
            status = NoticeStatus.NO_ADDRESS
        rows.append(
            Notice(
                person=user,
                kind=kind,
                lesson=lesson,
                room=room,
                version=version,
                status=status,
                email=user.email or "",
                language=chosen.email_language if chosen else settings.LANGUAGE_CODE,
            )
        )
    Notice.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _lesson_is_ahead(lesson: Lesson, now: datetime) -> bool:
    return not lesson.is_cancelled and lesson.scheduled_end > now


def reminders_plan(*, now: datetime) -> int:
    """Reminders for lessons starting within ``NOTIFY_REMINDER_MIN`` that have none yet for
    their current revision (a lesson moved after its reminder gets a new one at its new time).

    One indexed range query finds them; with nothing due that is the whole cost.
    """
    planned_before = Notice.objects.filter(
        kind=NoticeKind.REMINDER, lesson=OuterRef("pk"), version=OuterRef("sequence")
    )
    due = (
        Lesson.objects.filter(
            scheduled_start__gt=now,
            scheduled_start__lte=now + timedelta(minutes=settings.NOTIFY_REMINDER_MIN),
            is_cancelled=False,
        )
        .exclude(Exists(planned_before))
        .select_related("teacher", "subject")
    )
    count = 0
    for lesson in due:
        count += notices_plan(
            kind=NoticeKind.REMINDER,
            people=lesson_audience(lesson=lesson),
            version=lesson.sequence,
            lesson=lesson,
        )
    return count


def lesson_change_plan(*, lesson_id: int, now: datetime | None = None) -> int:
    """A cancelled lesson: a cancellation notice; a lesson at a new time (or back on): a change
    notice. Once per revision; nothing for lessons already over or never moved."""
    now = now or timezone.now()
    lesson = Lesson.objects.select_related("teacher", "subject").filter(pk=lesson_id).first()
    if lesson is None or lesson.scheduled_end <= now:
        return 0
    if lesson.is_cancelled:
        kind = NoticeKind.CANCELLED
    elif lesson.sequence > 0:
        kind = NoticeKind.RESCHEDULED
    else:
        return 0
    return notices_plan(
        kind=kind, people=lesson_audience(lesson=lesson), version=lesson.sequence, lesson=lesson
    )


def recording_ready_plan(*, recording_id: int) -> int:
    """Everyone the recording is for: a lesson's teachers, participants and their parents (a
    meeting's hosts). Nothing for a cancelled lesson."""
    recording = (
        Recording.objects.select_related("room__lesson__teacher", "room__lesson__subject")
        .filter(pk=recording_id, status=RecordingStatus.READY)
        .first()
    )
    if recording is None:
        return 0
    room, lesson = recording.room, recording.room.lesson
    if lesson is not None and lesson.is_cancelled:
        return 0
    people = lesson_audience(lesson=lesson) if lesson is not None else room_hosts(room=room)
    return notices_plan(
        kind=NoticeKind.RECORDING_READY,
        people=people,
        version=recording.pk,
        lesson=lesson,
        room=room,
    )


def register_email_plan(*, room_id: int) -> int:
    """The register, to the lesson's teachers, once, when the room has closed."""
    room = Room.objects.select_related("lesson__teacher", "lesson__subject").get(pk=room_id)
    lesson = room.lesson
    if lesson is None or lesson.is_cancelled or not settings.REGISTER_EMAIL_TEACHER:
        return 0
    return notices_plan(
        kind=NoticeKind.REGISTER, people=room_hosts(room=room), version=0, lesson=lesson, room=room
    )


# --- Send ----------------------------------------------------------------------------------------


def _claim(limit: int) -> list[int]:
    with transaction.atomic():
        ids = list(
            Notice.objects.filter(status=NoticeStatus.PENDING)
            .order_by("created_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            Notice.objects.filter(id__in=ids, status=NoticeStatus.PENDING).update(
                status=NoticeStatus.SENDING
            )
    return ids


def notices_send_pending(*, now: datetime | None = None, limit: int = SEND_BATCH) -> int:
    """Send every waiting notice, ``limit`` at a time; returns how many were sent."""
    sent = 0
    while ids := _claim(limit):
        sent += _deliver(notices_claimed(ids), now=now or timezone.now())
        if len(ids) < limit:
            break
    return sent


def _deliver(notices: list[Notice], *, now: datetime) -> int:
    shared: dict[tuple, dict] = {}
    parents = children_by_notice(notices)
    connection = get_connection()
    sent_ids, failures = [], []
    try:
        connection.open()
        for notice in notices:
            try:
                message = _message(notice, shared=shared, children=parents.get(notice.pk, []))
                message.connection = connection
                message.send()
            except Exception as exc:  # noqa: BLE001 - one bad address must not stop the rest
                failures.append((notice.pk, f"{type(exc).__name__}: {exc}"[:300]))
                logger.warning("notice failed notice=%s error=%r", notice.pk, exc)
            else:
                sent_ids.append(notice.pk)
    except OSError as exc:  # the mail server is down: every claimed notice failed
        done = set(sent_ids) | {pk for pk, _error in failures}
        failures += [
            (n.pk, f"{type(exc).__name__}: {exc}"[:300]) for n in notices if n.pk not in done
        ]
        logger.error("mail server unreachable notices=%s error=%r", len(notices), exc)
    finally:
        connection.close()
    Notice.objects.filter(id__in=sent_ids).update(status=NoticeStatus.SENT, sent_at=now)
    for pk, error in failures:
        Notice.objects.filter(pk=pk).update(status=NoticeStatus.FAILED, error=error)
    if sent_ids:
        logger.info("notices sent count=%s", len(sent_ids))
    return len(sent_ids)


def children_by_notice(notices: list[Notice]) -> dict[int, list[str]]:
    """For notices to parents: the names of the children each lesson is for."""
    found: dict[int, list[str]] = {}
    by_lesson: dict[int, list[Notice]] = {}
    for notice in notices:
        if notice.lesson_id is not None:
            by_lesson.setdefault(notice.lesson_id, []).append(notice)
    for group in by_lesson.values():
        names = children_named(parent_ids={n.person_id for n in group}, lesson=group[0].lesson)
        for notice in group:
            found[notice.pk] = names.get(notice.person_id, [])
    return found


def _message(notice: Notice, *, shared: dict, children: list[str]) -> EmailMessage:
    """The notice's email, written in the person's language."""
    with translation.override(notice.language or settings.LANGUAGE_CODE):
        key = (notice.kind, notice.lesson_id, notice.room_id, notice.language)
        if key not in shared:
            shared[key] = _shared_context(notice)
        context = {
            **shared[key],
            "person_name": notice.person.get_full_name() or notice.person.get_username(),
            "children": children,
        }
        template = f"webinars/emails/notice_{notice.kind}"
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        message = EmailMessage(
            subject, render_to_string(f"{template}.txt", context), None, [notice.email]
        )
        if notice.kind == NoticeKind.REGISTER and context.get("register_csv"):
            message.attach(context["register_file"], context["register_csv"], "text/csv")
        return message


def _shared_context(notice: Notice) -> dict:
    """What every copy of one notice shares (rendered once per language)."""
    base = settings.PORTAL_BASE_URL
    lesson, room = notice.lesson, notice.room
    if room is None and lesson is not None:
        room = Room.objects.filter(lesson_id=lesson.pk).first()
    context = {
        "lesson": lesson,
        "room": room,
        "title": lesson.title if lesson is not None else room.display_title,
        "start": lesson.scheduled_start if lesson is not None else room.scheduled_start,
        "end": lesson.scheduled_end if lesson is not None else room.scheduled_end,
        "time_zone": settings.TIME_ZONE,
        "url": f"{base}{lesson_page_path(lesson=lesson, room=room)}" if lesson else f"{base}/my/",
        "my_url": f"{base}/my/",
        "reminder_min": settings.NOTIFY_REMINDER_MIN,
    }
    if notice.kind == NoticeKind.RECORDING_READY and room is not None and room.is_open:
        context["url"] = f"{base}/join/{room.public_slug}/"
    if notice.kind == NoticeKind.REGISTER and room is not None:
        entry = room_register(room=room)
        if entry is not None:
            rows = register_rows(entry)
            context["register_expected"] = [row for row in rows if row["section"] == "expected"]
            context["register_others"] = [row for row in rows if row["section"] == "other"]
            context["counts"] = entry.register.counts()
            context["register_csv"] = register_csv(entry)
            context["register_file"] = f"register-{lesson.scheduled_start:%Y-%m-%d}-{lesson.pk}.csv"
    return context


# --- The tick and the subscribers ---------------------------------------------------------------


def notices_tick(*, now: datetime | None = None) -> dict:
    """Every minute: plan the reminders that are due, send whatever waits."""
    now = now or timezone.now()
    planned = reminders_plan(now=now)
    return {"planned": planned, "sent": notices_send_pending(now=now)}


def _queue(func: str, *args) -> None:
    """Plan and send in a worker: the writer that emitted the event does not wait for mail."""
    async_task(func, *args)


@receiver(lesson_cancelled, dispatch_uid="webinars.notices.lesson_cancelled")
@receiver(lesson_updated, dispatch_uid="webinars.notices.lesson_updated")
def lesson_changed(sender, event, **kwargs) -> None:
    _queue("webinars.tasks.notify_lesson_change", event.lesson_id)


@receiver(recording_state_changed, dispatch_uid="webinars.notices.recording_ready")
def recording_ready(sender, event, **kwargs) -> None:
    if event.status == RecordingStatus.READY:
        _queue("webinars.tasks.notify_recording_ready", event.recording_id)


@receiver(room_closed, dispatch_uid="webinars.notices.register_email")
def register_email(sender, event, **kwargs) -> None:
    if event.lesson_id is not None and event.reason != ClosedReason.CANCELLED:
        if settings.REGISTER_EMAIL_TEACHER:
            _queue("webinars.tasks.email_register", event.room_id)
