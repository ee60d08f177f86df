"""Two lessons at once: a teacher or a class in two overlapping lessons that are not cancelled.

One function answers for one lesson (``Lesson.clean``, so the admin form and the API refuse it)
and for a whole timetable (the import and series generation): every planned lesson is checked
against the others and against the database in one query, never one query per lesson.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _

from webinars.people import person_label
from webinars.timezones import school_time


@dataclass(frozen=True)
class Slot:
    """A lesson as planned: its time, its teachers (teacher and co-teachers), its class.

    ``name`` is how a message names it; ``handle`` is the caller's own key (a row number).
    """

    start: datetime
    end: datetime
    teacher_ids: frozenset
    class_id: int | None
    name: str
    handle: object = None


@dataclass(frozen=True)
class Clash:
    """``slot`` overlaps ``other_name`` for ``field`` (``teacher`` or ``school_class``)."""

    slot: Slot
    field: str
    subject_id: int  # the teacher's or the class's id
    other_name: str
    other_slot: Slot | None = None


@dataclass(order=True)
class _Busy:
    start: datetime
    end: datetime
    name: str = field(compare=False)
    slot: Slot | None = field(compare=False, default=None)


def lesson_name(*, title: str, code: str, start: datetime, end: datetime) -> str:
    """``“Fractions” (MATH, 2026-09-07 08:30–09:15)``: enough to find it in the list."""
    return f"“{title}” ({code}, {school_time(start)}–{school_time(end, '%H:%M')})"


def find_clashes(slots: Iterable[Slot], *, ignore: Q | None = None) -> list[Clash]:
    """Every planned slot that overlaps another slot or a lesson in the database.

    ``ignore`` leaves out lessons the plan replaces (the lesson being edited, a series' future
    lessons being regenerated). Cancelled lessons never clash. Two queries however many slots.
    """
    slots = list(slots)
    if not slots:
        return []
    busy: dict[tuple[str, int], list[_Busy]] = defaultdict(list)
    for slot in slots:
        for teacher_id in slot.teacher_ids:
            busy["teacher", teacher_id].append(_Busy(slot.start, slot.end, slot.name, slot))
        if slot.class_id is not None:
            busy["school_class", slot.class_id].append(_Busy(slot.start, slot.end, slot.name, slot))
    for key, existing in _lessons_in_the_way(slots, ignore).items():
        if key in busy:
            busy[key].extend(existing)

    clashes = []
    for (kind, subject_id), items in busy.items():
        items.sort()
        latest = items[0]
        for item in items[1:]:
            if item.start < latest.end and (item.slot or latest.slot):
                mine, theirs = (item, latest) if item.slot else (latest, item)
                clashes.append(Clash(mine.slot, kind, subject_id, theirs.name, theirs.slot))
            if item.end > latest.end:
                latest = item
    return clashes


def _lessons_in_the_way(slots: list[Slot], ignore: Q | None) -> dict:
    """Lessons in the database that share a teacher or a class with the slots, in their span."""
    from webinars.models import Lesson

    teacher_ids = set().union(*(slot.teacher_ids for slot in slots))
    class_ids = {slot.class_id for slot in slots if slot.class_id is not None}
    involved = Q(teacher_id__in=teacher_ids) | Q(co_teachers__in=teacher_ids)
    if class_ids:
        involved |= Q(school_class_id__in=class_ids)
    lessons = Lesson.objects.filter(
        involved,
        is_cancelled=False,
        scheduled_start__lt=max(slot.end for slot in slots),
        scheduled_end__gt=min(slot.start for slot in slots),
    )
    if ignore is not None:
        lessons = lessons.exclude(ignore)
    rows = list(
        lessons.distinct().values_list(
            "pk",
            "title",
            "subject__code",
            "scheduled_start",
            "scheduled_end",
            "teacher_id",
            "school_class_id",
        )
    )
    found: dict[tuple[str, int], list[_Busy]] = defaultdict(list)
    if not rows:
        return found
    co_teachers = defaultdict(set)
    through = Lesson.co_teachers.through.objects.filter(lesson_id__in=[row[0] for row in rows])
    for lesson_id, user_id in through.values_list("lesson_id", "user_id"):
        co_teachers[lesson_id].add(user_id)
    for pk, title, code, start, end, teacher_id, class_id in rows:
        name = lesson_name(title=title, code=code, start=start, end=end)
        for user_id in {teacher_id, *co_teachers[pk]} & teacher_ids:
            found["teacher", user_id].append(_Busy(start, end, name))
        if class_id in class_ids:
            found["school_class", class_id].append(_Busy(start, end, name))
    return found


def lesson_clash_errors(*, lesson) -> dict[str, str]:
    """Field errors for ``lesson`` overlapping other lessons of its teachers or its class.

    Used by ``Lesson.clean()``: the admin form, the API and anything else that validates a
    lesson refuse a clash in the same words, naming both lessons.
    """
    if lesson.is_cancelled:
        return {}
    co_teachers = lesson.planned_co_teacher_ids
    if co_teachers is None and lesson.pk:
        co_teachers = set(lesson.co_teachers.values_list("pk", flat=True))
    this = lesson_name(
        title=lesson.title,
        code=lesson.subject.code,
        start=lesson.scheduled_start,
        end=lesson.scheduled_end,
    )
    slot = Slot(
        start=lesson.scheduled_start,
        end=lesson.scheduled_end,
        teacher_ids=frozenset({lesson.teacher_id, *(co_teachers or ())}),
        class_id=lesson.school_class_id,
        name=this,
    )
    errors: dict[str, list[str]] = defaultdict(list)
    ignore = Q(pk=lesson.pk) if lesson.pk else None
    for clash in find_clashes([slot], ignore=ignore):
        if clash.field == "teacher":
            who = person_label(get_user_model().objects.get(pk=clash.subject_id))
            field_name = "teacher" if clash.subject_id == lesson.teacher_id else "co_teachers"
        else:
            who = _("class %(name)s") % {"name": lesson.school_class}
            field_name = "school_class"
        errors[field_name].append(
            _("%(this)s overlaps %(other)s: %(who)s cannot be in both.")
            % {"this": this, "other": clash.other_name, "who": who}
        )
    return dict(errors)
