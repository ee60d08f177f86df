"""The scheduler tick (docs/lifecycle.md): rooms created, opened and closed on time, by one or
many ticks."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django_q.models import Schedule

from tests.factories import at, make_lesson, make_room, make_user
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus
from webinars.models import Heartbeat, Lesson, Recording, Room
from webinars.schedules import MAINTAIN_ROOMS, install_schedules
from webinars.selectors.health import SCHEDULER_HEARTBEAT
from webinars.services.rooms import room_ensure_for_lesson
from webinars.services.tick import maintain_rooms

MINUTE = timedelta(minutes=1)
LEAD = timedelta(minutes=15)
GRACE = timedelta(minutes=10)


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


@pytest.mark.django_db
def test_a_busy_tick_opens_and_closes_in_one_update_per_batch(settings):
    from django.test.utils import CaptureQueriesContext

    settings.MAINTAIN_BATCH_SIZE = 10
    start = at("2026-11-10", "09:00")
    rooms = [make_room(make_lesson(start=start)) for _ in range(30)]

    def room_updates(now):
        with CaptureQueriesContext(connection) as ctx:
            result = maintain_rooms(now=now)
        updates = [q for q in ctx.captured_queries if q["sql"].startswith('UPDATE "webinars_room"')]
        return result, len(updates)

    opened, open_updates = room_updates(start)
    closed, close_updates = room_updates(rooms[0].scheduled_end + GRACE)
    assert len(opened.opened) == len(closed.closed) == 30
    assert (open_updates, close_updates) == (3, 3)


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
