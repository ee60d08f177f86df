"""The room lifecycle (SPEC §3): ensure, open, close, lesson edits and the scheduler tick."""

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django_q.models import Schedule

from tests.factories import make_lesson, make_recording, make_room, make_user
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.models import Heartbeat, Lesson, Recording, Room
from webinars.pages import MeetingIndexPage, MeetingPage
from webinars.schedules import MAINTAIN_ROOMS, install_schedules
from webinars.selectors import SCHEDULER_HEARTBEAT
from webinars.services.rooms import (
    lesson_delete,
    meeting_create,
    meeting_page_delete_guard,
    room_close,
    room_ensure_for_lesson,
    room_ensure_for_meeting,
    room_open,
)
from webinars.services.tick import maintain_rooms

AMS = ZoneInfo("Europe/Amsterdam")
MINUTE = timedelta(minutes=1)
LEAD = timedelta(minutes=15)
GRACE = timedelta(minutes=10)


def at(day: str, hhmm: str, seconds: int = 0, fold: int = 0) -> datetime:
    """A wall-clock time in the school's zone, as an aware UTC datetime."""
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=AMS, second=seconds, fold=fold)
    return local.astimezone(UTC)


# --- ensure / open / close ----------------------------------------------------------------


@pytest.mark.django_db
def test_ensure_is_idempotent_and_copies_the_lessons_schedule():
    lesson = make_lesson(is_open=True)
    room, created = room_ensure_for_lesson(lesson=lesson)
    again, created_again = room_ensure_for_lesson(lesson=lesson)
    assert (created, created_again) == (True, False)
    assert again.pk == room.pk
    assert room.type == RoomType.LESSON and room.status == RoomStatus.SCHEDULED
    assert (room.scheduled_start, room.scheduled_end) == (
        lesson.scheduled_start,
        lesson.scheduled_end,
    )
    assert room.is_open is True


@pytest.mark.django_db
def test_opening_starts_a_recording_and_closing_leaves_it_waiting_for_its_file():
    room = make_room()
    now = room.scheduled_start
    room_open(room=room, now=now)
    room.refresh_from_db()
    assert room.status == RoomStatus.OPEN and room.started_at == now
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.IN_PROGRESS and recording.started_at == now

    later = now + timedelta(minutes=50)
    room_close(room=room, reason=ClosedReason.FORCED, now=later)
    room.refresh_from_db()
    recording.refresh_from_db()
    assert (room.status, room.closed_reason, room.ended_at) == (
        RoomStatus.CLOSED,
        ClosedReason.FORCED,
        later,
    )
    assert recording.status == RecordingStatus.PENDING and recording.ended_at == later


@pytest.mark.django_db
def test_open_and_close_twice_change_nothing_the_second_time():
    room = make_room()
    first = room.scheduled_start
    room_open(room=room, now=first)
    room_open(room=room, now=first + MINUTE)
    room_close(room=room, now=first + 2 * MINUTE)
    room_close(room=room, reason=ClosedReason.FORCED, now=first + 3 * MINUTE)
    room.refresh_from_db()
    assert room.started_at == first
    assert (room.ended_at, room.closed_reason) == (first + 2 * MINUTE, ClosedReason.ENDED)
    assert room.recordings.count() == 1


@pytest.mark.django_db
def test_opening_resumes_a_pending_recording_but_never_touches_a_ready_one():
    room = make_room()
    ready = make_recording(room, status=RecordingStatus.READY, file_url="https://x.test/a.mp4")
    room_open(room=room, now=room.scheduled_start)
    ready.refresh_from_db()
    assert ready.status == RecordingStatus.READY
    assert room.recordings.filter(status=RecordingStatus.IN_PROGRESS).count() == 1

    second = make_room()
    pending = make_recording(second, status=RecordingStatus.PENDING)
    room_open(room=second, now=second.scheduled_start)
    pending.refresh_from_db()
    assert pending.status == RecordingStatus.IN_PROGRESS
    assert second.recordings.count() == 1


# --- lesson edits -------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_a_lesson_closes_its_room_as_cancelled():
    room = make_room()
    room_open(room=room, now=room.scheduled_start)
    lesson = room.lesson
    lesson.is_cancelled = True
    lesson.save()
    room.refresh_from_db()
    assert (room.status, room.closed_reason) == (RoomStatus.CLOSED, ClosedReason.CANCELLED)
    assert room.recordings.get().status == RecordingStatus.PENDING


@pytest.mark.django_db
def test_rescheduling_moves_an_unclosed_room_but_not_a_closed_one():
    room = make_room()
    lesson = room.lesson
    lesson.scheduled_start += timedelta(days=1)
    lesson.scheduled_end += timedelta(days=1)
    lesson.save()
    room.refresh_from_db()
    assert (room.scheduled_start, room.scheduled_end) == (
        lesson.scheduled_start,
        lesson.scheduled_end,
    )

    room_close(room=room, now=lesson.scheduled_end)
    before = (room.scheduled_start, room.scheduled_end)
    lesson.scheduled_start += timedelta(days=1)
    lesson.scheduled_end += timedelta(days=1)
    lesson.save()
    room.refresh_from_db()
    assert (room.scheduled_start, room.scheduled_end) == before
    assert room.status == RoomStatus.CLOSED


@pytest.mark.django_db
def test_moving_a_running_lesson_to_another_day_puts_its_room_back_to_scheduled():
    room = make_room(make_lesson(start=datetime.now(UTC) - timedelta(minutes=5)))
    room_open(room=room, now=room.scheduled_start)
    lesson = room.lesson
    lesson.scheduled_start += timedelta(days=1)
    lesson.scheduled_end += timedelta(days=1)
    lesson.save()
    room.refresh_from_db()
    assert (room.status, room.started_at) == (RoomStatus.SCHEDULED, None)
    assert room.scheduled_start == lesson.scheduled_start
    assert room.recordings.get().status == RecordingStatus.PENDING


@pytest.mark.django_db
def test_uncancelling_before_the_window_ends_schedules_the_room_again():
    room = make_room()
    lesson = room.lesson
    lesson.is_cancelled = True
    lesson.save()
    lesson.is_cancelled = False
    lesson.save()
    room.refresh_from_db()
    assert room.status == RoomStatus.SCHEDULED and room.closed_reason == ""


@pytest.mark.django_db
def test_a_lesson_with_a_ready_recording_cannot_be_deleted():
    room = make_room()
    make_recording(room, status=RecordingStatus.READY, file_url="https://x.test/a.mp4")
    with pytest.raises(ValidationError, match="finished recording"):
        lesson_delete(lesson=room.lesson)
    assert Lesson.objects.filter(pk=room.lesson_id).exists()


@pytest.mark.django_db
def test_deleting_a_lesson_takes_its_room_and_unfinished_recordings():
    room = make_room()
    make_recording(room, status=RecordingStatus.FAILED)
    make_recording(room, status=RecordingStatus.PENDING)
    lesson_delete(lesson=room.lesson)
    assert not Lesson.objects.filter(pk=room.lesson_id).exists()
    assert not Room.objects.filter(pk=room.pk).exists()
    assert not Recording.objects.filter(room_id=room.pk).exists()


# --- meetings -----------------------------------------------------------------------------


def _meeting_page(title="Parents' evening", start=None, **fields) -> MeetingPage:
    index = MeetingIndexPage.objects.first()
    if index is None:
        from wagtail.models import Site

        index = MeetingIndexPage(title="Meetings", slug="meetings")
        Site.objects.get(is_default_site=True).root_page.add_child(instance=index)
    start = start or datetime(2030, 5, 1, 17, tzinfo=UTC)
    page = MeetingPage(
        title=title,
        slug=title.lower().replace(" ", "-").replace("'", ""),
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        **fields,
    )
    index.add_child(instance=page)
    return page


@pytest.mark.django_db
def test_publishing_a_meeting_page_makes_its_room_and_republishing_updates_it():
    page = _meeting_page(is_open=True)
    assert page.room_id is None
    page.save_revision().publish()
    page.refresh_from_db()
    room = page.room
    assert room.type == RoomType.MEETING and room.lesson_id is None
    assert (room.title, room.is_open, room.scheduled_start) == (
        "Parents' evening",
        True,
        page.scheduled_start,
    )

    page.title = "Parents' evening (moved)"
    page.scheduled_start += timedelta(hours=2)
    page.scheduled_end += timedelta(hours=2)
    page.is_open = False
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.room_id == room.pk
    room.refresh_from_db()
    assert (room.title, room.is_open, room.scheduled_start) == (
        "Parents' evening (moved)",
        False,
        page.scheduled_start,
    )
    assert Room.objects.filter(type=RoomType.MEETING).count() == 1


@pytest.mark.django_db
def test_publishing_a_revision_older_than_the_room_keeps_the_room():
    page = _meeting_page()
    old_revision = page.save_revision()
    page.save_revision().publish()
    page.refresh_from_db()
    room_id = page.room_id
    old_revision.publish()
    page.refresh_from_db()
    assert page.room_id == room_id
    assert Room.objects.filter(type=RoomType.MEETING).count() == 1


@pytest.mark.django_db
def test_meeting_create_makes_the_index_page_a_published_page_and_its_room():
    MeetingIndexPage.objects.all().delete()
    host = make_user(is_staff=True)
    start = datetime(2030, 5, 1, 17, tzinfo=UTC)
    room = meeting_create(
        host=host,
        title="Общее собрание",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        is_open=True,
    )
    page = MeetingPage.objects.get(room=room)
    assert page.live and list(page.hosts.all()) == [host]
    assert isinstance(page.get_parent().specific, MeetingIndexPage)
    assert room.title == "Общее собрание" and room.type == RoomType.MEETING
    assert room_ensure_for_meeting(page=page).pk == room.pk


@pytest.mark.django_db
def test_the_tick_makes_a_missing_meeting_room_inside_the_horizon():
    start = datetime(2030, 5, 1, 17, tzinfo=UTC)
    page = _meeting_page(start=start)
    page.save_revision().publish()
    page.refresh_from_db()
    MeetingPage.objects.filter(pk=page.pk).update(room=None)
    Room.objects.filter(pk=page.room_id).delete()

    assert maintain_rooms(now=start - timedelta(hours=60)).created == []
    result = maintain_rooms(now=start - timedelta(hours=47))
    page.refresh_from_db()
    assert result.created == [page.room_id]
    assert maintain_rooms(now=start).opened == [page.room_id]


@pytest.mark.django_db
def test_a_meeting_page_with_a_ready_recording_cannot_be_deleted_and_others_close_their_room():
    page = _meeting_page()
    page.save_revision().publish()
    page.refresh_from_db()
    ready = make_recording(page.room, status=RecordingStatus.READY, file_url="https://x.test/a")
    with pytest.raises(ValidationError, match="finished recording"):
        meeting_page_delete_guard(page=page)
    ready.delete()
    meeting_page_delete_guard(page=page)
    room = page.room
    page.delete()
    room.refresh_from_db()
    assert (room.status, room.closed_reason) == (RoomStatus.CLOSED, ClosedReason.CANCELLED)


# --- the tick -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_room_is_created_when_its_window_opens_not_before():
    lesson = make_lesson(start=at("2026-11-10", "09:00"))
    assert maintain_rooms(now=at("2026-11-10", "08:44", 59)).created == []
    result = maintain_rooms(now=at("2026-11-10", "08:45"))
    room = Room.objects.get(lesson=lesson)
    assert result.created == [room.pk] and room.status == RoomStatus.SCHEDULED
    assert maintain_rooms(now=at("2026-11-10", "08:46")).created == []


@pytest.mark.django_db
def test_open_lessons_get_their_room_and_public_slug_48_hours_ahead():
    start = at("2026-11-12", "10:00")
    open_lesson = make_lesson(start=start, is_open=True)
    closed_lesson = make_lesson(start=start)
    assert maintain_rooms(now=start - timedelta(hours=49)).created == []
    maintain_rooms(now=start - timedelta(hours=48))
    room = Room.objects.get(lesson=open_lesson)
    assert room.is_open and room.public_slug
    assert not Room.objects.filter(lesson=closed_lesson).exists()


@pytest.mark.django_db
def test_cancelled_lessons_get_no_room_and_unmanaged_rooms_are_left_alone():
    start = at("2026-11-10", "09:00")
    cancelled = make_lesson(start=start, is_cancelled=True)
    manual = make_room(make_lesson(start=start), auto_manage=False)
    for minute in range(0, 120):
        maintain_rooms(now=start - LEAD + minute * MINUTE)
    assert not Room.objects.filter(lesson=cancelled).exists()
    manual.refresh_from_db()
    assert manual.status == RoomStatus.SCHEDULED and manual.started_at is None


@pytest.mark.django_db
def test_after_hours_of_downtime_one_tick_closes_the_overdue_and_opens_what_is_due():
    day = "2026-11-10"
    morning = [make_room(make_lesson(start=at(day, f"{h:02d}:00"))) for h in range(8, 12)]
    maintain_rooms(now=at(day, "08:00"))  # the first opens, then the scheduler goes down
    never_seen = make_lesson(start=at(day, "10:30"))  # its whole window passes unseen
    current = make_lesson(start=at(day, "12:55"))

    result = maintain_rooms(now=at(day, "13:00"))
    assert sorted(result.closed) == sorted(room.pk for room in morning)
    current_room = Room.objects.get(lesson=current)
    assert result.created == [current_room.pk] and result.opened == [current_room.pk]
    assert not Room.objects.filter(lesson=never_seen).exists()
    for room in morning:
        room.refresh_from_db()
        assert room.status == RoomStatus.CLOSED and room.closed_reason == ClosedReason.ENDED
    assert maintain_rooms(now=at(day, "13:01")).counts() == {
        "created": 0,
        "opened": 0,
        "closed": 0,
    }


@pytest.mark.django_db
def test_the_tick_logs_one_line_per_action_with_room_and_lesson(caplog):
    lesson = make_lesson(start=at("2026-11-10", "09:00"))
    with caplog.at_level("INFO", logger="webinars.rooms"):
        maintain_rooms(now=at("2026-11-10", "09:00"))
        maintain_rooms(now=at("2026-11-10", "09:55"))
    room = Room.objects.get(lesson=lesson)
    lines = [r.getMessage() for r in caplog.records if r.name == "webinars.rooms"]
    assert lines == [
        f"room created room={room.pk} lesson={lesson.pk}",
        f"room opened room={room.pk} lesson={lesson.pk}",
        f"room closed room={room.pk} lesson={lesson.pk} reason=ended",
    ]


@pytest.mark.django_db
def test_each_tick_records_a_heartbeat_for_the_health_check(api_client):
    maintain_rooms(now=at("2026-11-10", "09:00"))
    beat = Heartbeat.objects.get(name=SCHEDULER_HEARTBEAT)
    assert beat.details["tick_now"] == at("2026-11-10", "09:00").isoformat()
    body = api_client.get("/api/health/").json()
    assert body["scheduler"]["status"] == "ok"


@pytest.mark.django_db
def test_a_tick_with_nothing_due_costs_a_handful_of_queries(django_assert_max_num_queries):
    day = datetime(2026, 11, 10, tzinfo=UTC)
    for d in range(30):
        for h in range(8, 16):
            make_lesson(start=day + timedelta(days=d, hours=h))
    maintain_rooms(now=day + timedelta(days=3, hours=10))
    with django_assert_max_num_queries(4):
        result = maintain_rooms(now=day + timedelta(days=3, hours=10, seconds=30))
    assert result.counts() == {"created": 0, "opened": 0, "closed": 0}


def _simulate(lessons: dict[int, Lesson], first: datetime, last: datetime) -> dict:
    """Tick once a simulated minute; remember when each room was created, opened, closed."""
    seen: dict[str, dict[int, list[datetime]]] = {"created": {}, "opened": {}, "closed": {}}
    now = first
    while now <= last:
        result = maintain_rooms(now=now)
        for action in seen:
            for room_id in getattr(result, action):
                seen[action].setdefault(room_id, []).append(now)
        now += MINUTE
    return seen


def _assert_every_transition_within_one_tick(lessons, seen, first: datetime) -> None:
    rooms = {room.lesson_id: room for room in Room.objects.filter(lesson__in=lessons)}
    for lesson in lessons:
        if lesson.is_cancelled:
            assert lesson.pk not in rooms
            continue
        room = rooms[lesson.pk]
        expected_create = max(lesson.scheduled_start - LEAD, first)
        if lesson.is_open:
            expected_create = max(lesson.scheduled_start - timedelta(hours=48), first)
        expected = {
            "created": expected_create,
            "opened": lesson.scheduled_start,
            "closed": lesson.scheduled_end + GRACE,
        }
        for action, rule_time in expected.items():
            times = seen[action].get(room.pk)
            assert times and len(times) == 1, (lesson, action, times)
            assert rule_time <= times[0] < rule_time + MINUTE, (lesson, action, times[0])
        assert (room.started_at, room.ended_at) == (
            seen["opened"][room.pk][0],
            seen["closed"][room.pk][0],
        )
        assert room.status == RoomStatus.CLOSED and room.closed_reason == ClosedReason.ENDED
        assert room.recordings.get().status == RecordingStatus.PENDING


SCHOOL_DAY_SLOTS = [
    # (local start, seconds, minutes long): 40 lessons, some starting off the minute.
    *[(f"{h:02d}:{m:02d}", 0, 45) for h in range(8, 16) for m in (0, 50)],
    *[(f"{h:02d}:{m:02d}", 30, 30) for h in range(8, 16) for m in (7, 33)],
    *[(f"{h:02d}:20", 15, 90) for h in range(8, 16)],
]


@pytest.mark.django_db
def test_a_simulated_school_day_runs_every_room_to_the_minute():
    day = "2026-11-10"
    teacher = make_user()
    lessons = [
        make_lesson(
            start=at(day, hhmm, seconds),
            duration=timedelta(minutes=length),
            teacher=teacher,
            is_open=(i % 7 == 0),
            is_cancelled=(i in (5, 23)),
        )
        for i, (hhmm, seconds, length) in enumerate(SCHOOL_DAY_SLOTS)
    ]
    assert len(lessons) == 40
    first, last = at(day, "07:00"), at(day, "18:00")
    seen = _simulate(lessons, first, last)
    _assert_every_transition_within_one_tick(lessons, seen, first)


@pytest.mark.parametrize(
    "day", ["2026-10-25", "2026-03-29"], ids=["autumn-fall-back", "spring-forward"]
)
@pytest.mark.django_db
def test_the_simulated_day_holds_across_the_dst_change(day):
    """Lessons around 02:00–03:00 local, when the clocks change; ticks run over real minutes."""
    teacher = make_user()
    night = [("01:30", 0, 45), ("01:50", 30, 60), ("02:10", 0, 40), ("02:30", 0, 45)]
    night += [("02:10", 0, 40, 1), ("02:45", 15, 30, 1), ("03:00", 0, 45), ("03:20", 0, 60)]
    slots = [(*slot, 0) if len(slot) == 3 else slot for slot in night]
    slots += [(hhmm, sec, length, 0) for hhmm, sec, length in SCHOOL_DAY_SLOTS[:32]]
    lessons = [
        make_lesson(
            start=at(day, hhmm, sec, fold=fold),
            duration=timedelta(minutes=length),
            teacher=teacher,
            is_open=(i % 9 == 0),
        )
        for i, (hhmm, sec, length, fold) in enumerate(slots)
    ]
    assert len(lessons) == 40
    first, last = at(day, "00:00"), at(day, "18:00")
    hours = (last - first) / timedelta(hours=1)
    assert hours == (19 if day.startswith("2026-10") else 17)  # the day really has 25/23 hours
    seen = _simulate(lessons, first, last)
    _assert_every_transition_within_one_tick(lessons, seen, first)


# --- schedule and command -----------------------------------------------------------------


@pytest.mark.django_db
def test_migrate_installed_the_every_minute_schedule_and_reinstalling_adds_no_copy():
    schedule = Schedule.objects.get(name=MAINTAIN_ROOMS)
    assert schedule.func == "webinars.tasks.maintain_rooms"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES,
        1,
        -1,
    )
    Schedule.objects.filter(pk=schedule.pk).update(minutes=5)
    assert install_schedules() == []
    assert Schedule.objects.filter(name=MAINTAIN_ROOMS).count() == 1
    assert Schedule.objects.get(name=MAINTAIN_ROOMS).minutes == 1


@pytest.mark.django_db
def test_the_task_entry_point_runs_a_tick():
    from webinars.tasks import maintain_rooms as task

    lesson = make_lesson(start=datetime.now(UTC) + timedelta(minutes=5))
    result = task()
    room = Room.objects.get(lesson=lesson)
    assert result["created"] == [room.pk] and result["counts"]["created"] == 1


@pytest.mark.django_db
def test_webinar_maintain_once_prints_the_ticks_summary(capsys):
    make_lesson(start=datetime.now(UTC) + timedelta(minutes=5))
    call_command("webinar_maintain", "--once")
    out = capsys.readouterr().out
    assert "created 1, opened 0, closed 0 in" in out and " ms" in out


@pytest.mark.django_db
def test_webinar_maintain_loops_until_its_tick_limit(capsys):
    call_command("webinar_maintain", "--interval", "0.01", "--max-ticks", "3")
    out = capsys.readouterr().out
    assert out.count("tick at ") == 3 and "stopped after 3 tick(s)" in out


# --- PostgreSQL: concurrency --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_and_two_ticks_make_exactly_one_room(postgres_only):
    teacher = make_user()
    errors: list[BaseException] = []

    def run(target):
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - every failure counts
            errors.append(exc)
        finally:
            connections.close_all()

    for _round in range(50):
        now = datetime.now(UTC)
        lesson = make_lesson(start=now + timedelta(minutes=5), teacher=teacher)
        barrier = threading.Barrier(22)

        def ensure(lesson=lesson, barrier=barrier):
            barrier.wait()
            room_ensure_for_lesson(lesson=lesson)

        def tick(barrier=barrier, now=now):
            barrier.wait()
            maintain_rooms(now=now)

        threads = [threading.Thread(target=run, args=(ensure,)) for _ in range(20)]
        threads += [threading.Thread(target=run, args=(tick,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert Room.objects.filter(lesson=lesson).count() == 1
    assert connection.vendor == "postgresql"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ticks_never_transition_a_room_twice(postgres_only):
    now = datetime.now(UTC)
    rooms = [make_room(make_lesson(start=now - timedelta(minutes=1))) for _ in range(30)]
    results = []
    barrier = threading.Barrier(2)

    def tick():
        try:
            barrier.wait()
            results.append(maintain_rooms(now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    opened = [room_id for result in results for room_id in result.opened]
    assert sorted(opened) == sorted(room.pk for room in rooms)
    assert Recording.objects.filter(status=RecordingStatus.IN_PROGRESS).count() == 30
