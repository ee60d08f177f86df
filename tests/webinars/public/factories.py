"""Open rooms and playable recordings for the public pages' tests."""

import re
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from tests.factories import make_lesson, make_recording, make_room
from webinars.choices import RecordingStatus

WEBM = b"\x1a\x45\xdf\xa3" + b"\0" * 64  # the served bytes only; browsers test real playback


def open_room(*, start_in=timedelta(hours=2), **lesson_fields):
    lesson = make_lesson(start=timezone.now() + start_in, is_open=True, **lesson_fields)
    return make_room(lesson)


def ready_recording(room, **fields):
    recording = make_recording(room, status=RecordingStatus.READY, duration_secs=125, **fields)
    recording.file.save("lesson.webm", ContentFile(WEBM), save=True)
    return recording


def csrf_tokens(html: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
