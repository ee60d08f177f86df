"""The django-q2 entry points and the schedules that call them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import make_lesson, make_recording, make_room
from webinars.choices import RecordingStatus, RoomStatus
from webinars.schedules import EXPIRE_STALE_RECORDINGS
from webinars.tasks import expire_stale_recordings


@pytest.mark.django_db
def test_migrate_installs_the_hourly_sweep_of_recordings_that_never_arrived():
    schedule = Schedule.objects.get(name=EXPIRE_STALE_RECORDINGS)
    assert schedule.func == "webinars.tasks.expire_stale_recordings"
    assert (schedule.schedule_type, schedule.repeats) == (Schedule.HOURLY, -1)


@pytest.mark.django_db
def test_the_sweep_fails_a_recording_still_waiting_a_day_after_its_room_closed():
    long_ago = timezone.now() - timedelta(days=2)
    room = make_room(make_lesson(start=long_ago))
    room.status, room.ended_at = RoomStatus.CLOSED, long_ago + timedelta(hours=1)
    room.save()
    stale = make_recording(room, status=RecordingStatus.PENDING)
    fresh_room = make_room(make_lesson())
    fresh = make_recording(fresh_room, status=RecordingStatus.PENDING)

    assert expire_stale_recordings() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RecordingStatus.FAILED and stale.meta.get("error")
    assert fresh.status == RecordingStatus.PENDING
