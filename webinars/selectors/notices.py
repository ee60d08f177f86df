"""Who hears about a lesson, and what each notice needs to be written (docs/notices.md)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from webinars.choices import RoomType
from webinars.models import Guardianship, Lesson, Notice, PersonPreferences, Room
from webinars.selectors.register import expected_participants
from webinars.selectors.viewer import meeting_page_for

User = get_user_model()


@dataclass
class Recipient:
    """One person to tell, and why: ``children`` names the children a parent hears for."""

    user: object
    is_teacher: bool = False
    is_participant: bool = False
    children: list[str] = field(default_factory=list)


def lesson_audience(*, lesson: Lesson) -> list[Recipient]:
    """The lesson's teachers, its expected participants and their parents, each once.

    School staff observe every lesson but are not told about each one; people who left the
    school (inactive accounts) are not told at all.
    """
    found: dict[int, Recipient] = {}

    def add(user) -> Recipient:
        if user.pk not in found:
            found[user.pk] = Recipient(user=user)
        return found[user.pk]

    teachers = [lesson.teacher, *lesson.co_teachers.all()]
    for teacher in teachers:
        add(teacher).is_teacher = True
    expected = expected_participants(lesson)
    students = {person.user_id: person for person in expected}
    for user in User.objects.filter(pk__in=students):
        add(user).is_participant = True
    guardians = Guardianship.objects.filter(child_id__in=students).select_related("parent")
    for guardianship in guardians.order_by("child__last_name", "child__first_name"):
        add(guardianship.parent).children.append(students[guardianship.child_id].name)
    return [recipient for recipient in found.values() if recipient.user.is_active]


def room_hosts(*, room: Room) -> list[Recipient]:
    """A meeting room's hosts (a lesson's room: its teachers)."""
    if room.type == RoomType.MEETING:
        page = meeting_page_for(room=room)
        hosts = list(page.hosts.all()) if page is not None else []
    else:
        hosts = [room.lesson.teacher, *room.lesson.co_teachers.all()]
    return [Recipient(user=user, is_teacher=True) for user in hosts if user.is_active]


def preferences_of(user_ids: Iterable[int]) -> dict[int, PersonPreferences]:
    return {p.user_id: p for p in PersonPreferences.objects.filter(user_id__in=list(user_ids))}


def children_named(*, parent_ids: Iterable[int], lesson: Lesson | None) -> dict[int, list[str]]:
    """For each parent, the names of their children the lesson expects (empty otherwise)."""
    if lesson is None:
        return {}
    expected = {person.user_id: person.name for person in expected_participants(lesson)}
    found: dict[int, list[str]] = defaultdict(list)
    rows = Guardianship.objects.filter(parent_id__in=list(parent_ids), child_id__in=expected)
    for parent_id, child_id in rows.values_list("parent_id", "child_id"):
        found[parent_id].append(expected[child_id])
    return found


def notices_claimed(ids: list[int]) -> list[Notice]:
    return list(
        Notice.objects.filter(pk__in=ids)
        .select_related("person", "lesson__subject", "lesson__teacher", "room")
        .order_by("lesson_id", "kind", "id")
    )
