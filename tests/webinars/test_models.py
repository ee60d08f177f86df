import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_lesson, make_room
from webinars.choices import RoomType
from webinars.models import Room


@pytest.mark.django_db(transaction=True)
def test_a_second_room_for_the_same_lesson_is_refused_by_the_database():
    lesson = make_lesson()
    first = make_room(lesson)
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(
            type=RoomType.LESSON,
            lesson=lesson,
            jitsi_domain="jitsi.school.edu",
            scheduled_start=lesson.scheduled_start,
            scheduled_end=lesson.scheduled_end,
        )
    assert list(Room.objects.filter(lesson=lesson)) == [first]


@pytest.mark.django_db
def test_room_names_and_slugs_are_lowercase_and_unguessable():
    rooms = [make_room() for _ in range(3)]
    names = {room.jitsi_room for room in rooms}
    slugs = {room.public_slug for room in rooms}
    assert len(names) == len(slugs) == 3
    for room in rooms:
        assert room.jitsi_room == room.jitsi_room.lower()
        assert len(room.jitsi_room) >= 24 and len(room.public_slug) >= 16
        assert room.join_url == f"https://jitsi.school.edu/{room.jitsi_room}"
