"""Meetings: a published MeetingPage's room, API-made meetings, the deletion guard."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_recording, make_user
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.models import Room
from webinars.pages import MeetingIndexPage, MeetingPage
from webinars.services.meetings import (
    meeting_create,
    meeting_page_delete_guard,
    room_ensure_for_meeting,
)
from webinars.services.tick import maintain_rooms

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
