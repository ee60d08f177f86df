"""A recording's READY and FAILED are heard once each, after commit (docs/lifecycle.md)."""

import pytest

from tests.factories import make_recording, make_room
from webinars.choices import RecordingStatus
from webinars.events import RecordingStateChanged
from webinars.recordings import recording_fail, recording_make_dummy

pytestmark = pytest.mark.django_db


def _changes(heard):
    return [(e.previous, e.status) for e in heard if isinstance(e, RecordingStateChanged)]


def test_a_recording_becoming_ready_is_heard_once(heard, django_capture_on_commit_callbacks):
    room = make_room()
    with django_capture_on_commit_callbacks(execute=True):
        recording = recording_make_dummy(room=room)
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    became_ready = [change for change in _changes(heard) if change[1] == RecordingStatus.READY]
    assert len(became_ready) == 1
    assert became_ready[0][0] != RecordingStatus.READY


def test_failing_is_heard_once_and_never_after_ready(heard, django_capture_on_commit_callbacks):
    room = make_room()
    waiting = make_recording(room, status=RecordingStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        assert recording_fail(recording=waiting, message="no file") is True
        assert recording_fail(recording=waiting, message="again") is True  # FAILED → FAILED
    ready = make_recording(room, status=RecordingStatus.READY)
    with django_capture_on_commit_callbacks(execute=True):
        assert recording_fail(recording=ready, message="late") is False
    assert _changes(heard)[0] == (RecordingStatus.PENDING, RecordingStatus.FAILED)
    assert all(event.recording_id != ready.pk for event in heard)
