"""Reads behind a public join page: the room behind a slug, its people, its recording."""

from django.db.models import Q

from webinars.choices import RecordingStatus, RoomType
from webinars.models import Recording, Room
from webinars.selectors.viewer import meeting_page_for


def room_for_public_page(*, slug: str) -> Room | None:
    """The open lesson's or open meeting's room behind ``/join/<slug>/``, or None.

    Unknown, revoked (regenerated) and non-open slugs all answer None, so the page gives the
    same 404 for each (docs/roles.md). Joins lesson and subject; the people (teacher first, see
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
        page = meeting_page_for(room=room)
        if page is not None and not page.is_open:
            return None
    return room


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
    page = meeting_page_for(room=room)
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
