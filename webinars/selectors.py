"""Reads: the queries pages, API views and feeds share."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from webinars.choices import STAFF_ROLE_GROUPS, JoinRole, RecordingStatus, RoomStatus, RoomType
from webinars.models import Enrollment, Heartbeat, Lesson, Recording, Room, Subject
from webinars.services.rooms import lessons_rooms_ensure

logger = logging.getLogger("webinars.selectors")

SCHEDULER_HEARTBEAT = "maintain_rooms"
SCHEDULER_STALE_AFTER = timedelta(minutes=3)


def scheduler_heartbeat() -> dict:
    """The scheduler's last tick: ``ok`` when it ran in the last 3 minutes, else ``stale``."""
    beat = Heartbeat.objects.filter(name=SCHEDULER_HEARTBEAT).first()
    if beat is None:
        return {"status": "never_ran", "last_tick": None}
    fresh = timezone.now() - beat.beat_at <= SCHEDULER_STALE_AFTER
    return {"status": "ok" if fresh else "stale", "last_tick": beat.beat_at.isoformat()}


# --- Open-lessons feed and listings (SPEC §6, §7 open-lessons) -----------------------------


def _open_lessons_in_window(*, now: datetime, hours: float, since_hours: float, show_all: bool):
    """Open, not cancelled lessons overlapping ``[now − since_hours, now + hours]``.

    Overlap rather than "starts inside" so a lesson that began an hour ago and is live now stays
    in the feed; ``show_all`` drops the window (seed §3.3 ``all=1``).
    """
    lessons = Lesson.objects.filter(is_open=True, is_cancelled=False)
    if not show_all:
        lessons = lessons.filter(
            scheduled_end__gte=now - timedelta(hours=since_hours),
            scheduled_start__lte=now + timedelta(hours=hours),
        )
    return lessons.select_related("subject", "teacher", "room").order_by("scheduled_start", "id")


def open_lessons_feed(
    *,
    now: datetime | None = None,
    hours: float | None = None,
    since_hours: float = 10 / 60,
    show_all: bool = False,
) -> list[Room]:
    """Rooms of the open lessons in the window (seed §3.3), lesson/subject/teacher joined.

    At most three queries whatever the data size: the lessons, and when some rooms are
    missing, one insert and one read.
    """
    now = now or timezone.now()
    hours = settings.OPEN_LESSONS_HORIZON_HOURS if hours is None else hours
    lessons = list(
        _open_lessons_in_window(now=now, hours=hours, since_hours=since_hours, show_all=show_all)
    )
    return lessons_rooms_ensure(lessons=lessons)


@dataclass(frozen=True)
class OpenLessonsListing:
    live: list[Room]
    upcoming: list[Room]
    recordings: list[Room]
    subjects: list[Subject]
    more: bool = False  # more than ``lessons_limit`` live/upcoming: ask to narrow the filter


def open_lessons_listing(
    *,
    now: datetime | None = None,
    subject_id: int | None = None,
    day: date | None = None,
    recordings_limit: int = 12,
    lessons_limit: int = 60,
    subjects: list[Subject] | None = None,
) -> OpenLessonsListing:
    """What the open-lessons page shows: live now, the next 48 h, recent recordings.

    ``day`` is a date in the school's zone (lessons *starting* that day; DST days are 23 or 25
    hours long) and narrows all three lists, so a past day finds old recordings. The first
    ``lessons_limit`` live/upcoming lessons are shown (``more`` says there are others), so a
    busy timetable costs the same four queries at most and a page of bounded size.
    """
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    horizon = settings.OPEN_LESSONS_HORIZON_HOURS
    lessons = _open_lessons_in_window(now=now, hours=horizon, since_hours=0, show_all=False)
    recorded = Room.objects.filter(
        type=RoomType.LESSON,
        is_open=True,
        lesson__is_open=True,
        lesson__is_cancelled=False,
        scheduled_start__lte=now,
    ).filter(Exists(Recording.objects.filter(room=OuterRef("pk"), status=RecordingStatus.READY)))
    if subject_id is not None:
        lessons = lessons.filter(subject_id=subject_id)
        recorded = recorded.filter(lesson__subject_id=subject_id)
    if day is not None:
        day_start = datetime.combine(day, time.min, tzinfo=zone)
        day_end = day_start + timedelta(days=1)
        lessons = lessons.filter(scheduled_start__gte=day_start, scheduled_start__lt=day_end)
        recorded = recorded.filter(scheduled_start__gte=day_start, scheduled_start__lt=day_end)
    current = list(lessons[: lessons_limit + 1])
    more = len(current) > lessons_limit
    rooms = lessons_rooms_ensure(lessons=current[:lessons_limit])
    live, upcoming = [], []
    for room in rooms:
        is_live = room.status == RoomStatus.OPEN or (
            room.status == RoomStatus.SCHEDULED and room.scheduled_start <= now < room.scheduled_end
        )
        if room.status == RoomStatus.CLOSED and not is_live:
            continue
        (live if is_live else upcoming).append(room)
    recordings = list(
        recorded.select_related("lesson__subject", "lesson__teacher").order_by(
            "-scheduled_start", "-id"
        )[:recordings_limit]
    )
    if subjects is None:
        subjects = list(Subject.objects.all())
    return OpenLessonsListing(
        live=live, upcoming=upcoming, recordings=recordings, subjects=subjects, more=more
    )


SUBJECTS_CACHE_KEY = "portal:open-lessons:subjects"


def subjects_for_filters() -> list[Subject]:
    """Every subject, for the open-lessons page's filter (cached OPEN_LESSONS_CACHE_SECONDS).

    The page's lists are already cached that long, so a subject added in the admin shows up
    in the filter on the same schedule as its lessons do; 0 turns the cache off.
    """
    from django.core.cache import cache

    seconds = settings.OPEN_LESSONS_CACHE_SECONDS
    subjects = cache.get(SUBJECTS_CACHE_KEY) if seconds else None
    if subjects is None:
        subjects = list(Subject.objects.all())
        if seconds:
            cache.set(SUBJECTS_CACHE_KEY, subjects, seconds)
    return subjects


def room_for_public_page(*, slug: str) -> Room | None:
    """The open lesson's or open meeting's room behind ``/join/<slug>/``, or None.

    Unknown, revoked (regenerated) and non-open slugs all answer None, so the page gives the
    same 404 for each (SPEC §4). Joins lesson and subject; the people (teacher first, see
    ``room_people``) and a meeting's page come with one more query each. The lesson's
    ``is_open`` is checked here rather than in SQL: the row is joined anyway, and the page is
    served often enough that the ORM's compile time of a smaller statement shows.
    """
    rooms = (
        Room.objects.filter(public_slug=slug, is_open=True)
        .select_related("lesson__subject")
        .order_by()[:1]
    )
    room = rooms[0] if rooms else None
    if room is None or (room.lesson_id is not None and not room.lesson.is_open):
        return None
    if room.type == RoomType.MEETING:  # the page (a wide Wagtail row) only when it is one
        page = _meeting_page(room)
        if page is not None and not page.is_open:
            return None
    return room


def _meeting_page(room: Room):
    try:
        return room.meeting_page
    except ObjectDoesNotExist:
        return None


def room_people(*, room: Room) -> list:
    """Who leads the room: the teacher then co-teachers, or the meeting's hosts (one query).

    A lesson's teacher and co-teachers come in one statement; the teacher is then cached on
    the lesson, so ``room.lesson.teacher`` costs no further query.
    """
    if room.lesson_id:
        from django.contrib.auth import get_user_model

        lesson = room.lesson
        people = list(
            get_user_model()
            .objects.filter(Q(pk=lesson.teacher_id) | Q(lessons_co_taught=lesson))
            .distinct()
            .order_by("last_name", "username")
        )
        teacher = next((person for person in people if person.pk == lesson.teacher_id), None)
        if teacher is None:  # not in the list only if the row vanished meanwhile
            return people
        lesson.teacher = teacher
        return [teacher, *(person for person in people if person.pk != teacher.pk)]
    page = _meeting_page(room)
    if page is None:
        return []
    return list(page.hosts.order_by("last_name", "username"))


def room_latest_ready_recording(*, room: Room) -> Recording | None:
    """The newest READY recording of ``room`` (with ``room`` attached, saving a query)."""
    recording = (
        Recording.objects.filter(room_id=room.pk, status=RecordingStatus.READY)
        .order_by("-created_at", "-id")
        .first()
    )
    if recording is not None:
        recording.room = room
    return recording


# --- "My lessons" (SPEC §6 /my/) ------------------------------------------------------------


def user_has_staff_role(*, user) -> bool:
    """Staff, superusers and members of the leadership groups observe every lesson (SPEC §4)."""
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=STAFF_ROLE_GROUPS).exists()


@dataclass(frozen=True)
class MyLessons:
    upcoming: list[Lesson]
    past: list[Lesson]


def lessons_for_user(
    *,
    user,
    now: datetime | None = None,
    ahead: timedelta = timedelta(days=14),
    back: timedelta = timedelta(days=30),
    limit: int = 50,
) -> MyLessons:
    """The lessons a signed-in user may join, each with ``my_role`` set (SPEC §4 table).

    Taught and co-taught lessons (moderator), enrolled subjects (participant), children's
    subjects for parents and every lesson for staff roles (observer). Membership is computed
    in SQL with EXISTS subqueries, so the cost is a constant four queries (staff check, the
    two lists, the READY recordings of the past ones) whatever the timetable's size.
    """
    now = now or timezone.now()
    staff = user_has_staff_role(user=user)
    co_taught = Lesson.co_teachers.through.objects.filter(lesson_id=OuterRef("pk"), user_id=user.pk)
    enrolled = Enrollment.objects.filter(student_id=user.pk, subject_id=OuterRef("subject_id"))
    as_parent = Enrollment.objects.filter(
        student__guardians__parent_id=user.pk, subject_id=OuterRef("subject_id")
    )
    lessons = Lesson.objects.annotate(
        is_co_teacher=Exists(co_taught),
        is_enrolled=Exists(enrolled),
        is_parent=Exists(as_parent),
    ).select_related("subject", "teacher", "room")
    if not staff:
        lessons = lessons.filter(
            Q(teacher_id=user.pk) | Q(is_co_teacher=True) | Q(is_enrolled=True) | Q(is_parent=True)
        )
    upcoming = list(
        lessons.filter(
            scheduled_end__gte=now, scheduled_start__lte=now + ahead, is_cancelled=False
        ).order_by("scheduled_start", "id")[:limit]
    )
    past = list(
        lessons.filter(scheduled_end__lt=now, scheduled_end__gte=now - back)
        .prefetch_related(
            Prefetch(
                "room__recordings",
                queryset=Recording.objects.filter(status=RecordingStatus.READY).order_by(
                    "created_at", "id"
                ),
                to_attr="ready_recordings",
            )
        )
        .order_by("-scheduled_start", "-id")[:limit]
    )
    for lesson in (*upcoming, *past):
        lesson.my_role = _role_in_lesson(lesson=lesson, user=user)
    return MyLessons(upcoming=upcoming, past=past)


def _role_in_lesson(*, lesson: Lesson, user) -> str:
    if lesson.teacher_id == user.pk or lesson.is_co_teacher:
        return JoinRole.MODERATOR
    if lesson.is_enrolled:
        return JoinRole.PARTICIPANT
    return JoinRole.OBSERVER


def admin_dashboard(*, now: datetime | None = None, limit: int = 20) -> dict:
    """What the school's admin checks first: rooms live now, the next 24 h, failed recordings."""
    now = now or timezone.now()
    rooms = Room.objects.select_related("lesson__subject").order_by("scheduled_start", "id")
    return {
        "live": list(rooms.filter(status=RoomStatus.OPEN)[:limit]),
        "next_day": list(
            Lesson.objects.select_related("subject", "teacher")
            .filter(scheduled_start__gte=now, scheduled_start__lt=now + timedelta(hours=24))
            .filter(is_cancelled=False)
            .order_by("scheduled_start", "id")[:limit]
        ),
        "failed_recordings": list(
            Recording.objects.select_related("room__lesson")
            .filter(status=RecordingStatus.FAILED)
            .order_by("-updated_at")[:limit]
        ),
    }
