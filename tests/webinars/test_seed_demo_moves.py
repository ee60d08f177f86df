"""Re-running seed_demo on a later day puts the demo timetable around the new now, quietly."""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_lesson, make_recording
from webinars.choices import RecordingStatus, RoomStatus
from webinars.models import Lesson, Recording, Room
from webinars.services.joins import room_join_public

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """``timezone.now()`` for the whole portal, moved by assigning ``clock.now``."""

    class Clock:
        now = timezone.now()

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def live_lessons(now):
    return Lesson.objects.filter(scheduled_start__lte=now, scheduled_end__gt=now)


def test_a_later_run_moves_only_the_demo_lessons_around_now(clock, capsys):
    real_now = clock.now
    clock.now = real_now - timedelta(days=3)
    call_command("seed_demo")
    first_day = set(Lesson.objects.values_list("title", "scheduled_start"))
    own = make_lesson(title="A lesson of the school's own", start=clock.now + timedelta(hours=2))
    yesterday_live = live_lessons(clock.now).filter(is_open=True).get()
    room = Room.objects.get(lesson=yesterday_live)
    Room.objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED, closed_reason="ended")
    make_recording(room, status=RecordingStatus.FAILED)
    capsys.readouterr()

    clock.now = real_now
    call_command("seed_demo")

    assert "0 new, 33 moved to now" in capsys.readouterr().out
    assert Lesson.objects.count() == len(first_day) + 1
    live = live_lessons(real_now)
    assert live.count() >= 2 and live.filter(is_open=True).exists()
    assert Lesson.objects.filter(
        scheduled_end__lt=real_now, description__startswith="Demo"
    ).exists()
    own.refresh_from_db()
    assert own.scheduled_start == real_now - timedelta(days=3) + timedelta(hours=2)
    # The open lesson live now can be joined through its public link again.
    open_live = live.filter(is_open=True).get(pk=yesterday_live.pk)
    fresh = Room.objects.get(lesson=open_live)
    assert fresh.pk != room.pk and fresh.status != RoomStatus.CLOSED
    assert not Recording.objects.filter(room_id=room.pk).exists()
    joined = room_join_public(slug=fresh.public_slug, display_name="Guest", ip="")
    assert joined.join_url


def test_a_quick_rerun_leaves_the_timetable_alone(clock, capsys):
    call_command("seed_demo")
    before = set(Lesson.objects.values_list("pk", "scheduled_start"))
    clock.now = clock.now + timedelta(minutes=10)
    call_command("seed_demo")
    assert set(Lesson.objects.values_list("pk", "scheduled_start")) == before
    assert "0 new, 0 moved to now" in capsys.readouterr().out


def test_seeding_prints_the_summary_and_no_service_log_lines(caplog):
    caplog.set_level(logging.INFO, logger="webinars")
    call_command("seed_demo")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("webinars")] == []
    assert logging.getLogger("webinars").level == logging.INFO  # restored afterwards
