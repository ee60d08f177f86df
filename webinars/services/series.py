"""Writes on the timetable: weekly series and the lessons they generate, closures, classes.

The rules (``docs/imports.md`` tells them to the school):

- A series' lessons fall on its weekday, at the same wall-clock time in the school's zone all
  year: across the March and October clock changes the UTC instant moves, the lesson does not.
- Lessons are matched to the series' weeks by ISO week, so changing a series' weekday or time
  moves each future lesson (keeping its room and public link) instead of replacing it.
- Editing a series changes its future lessons that nobody edited one by one; lessons that have
  started never change. Dates that fall out of the series (a shorter range, a closure) cancel
  their future lessons: cancelled, not deleted, so links and notices stay truthful. A date
  coming back revives the lesson the series cancelled.
- New lessons are inserted in bulk (rooms are created later by the scheduler tick); every
  change to an existing lesson is a plain ``save()``, so the lesson-saved signal keeps its room
  in step (a cancelled lesson's room closes) like an edit in the admin.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webinars.choices import RecordingStatus
from webinars.clashes import find_clashes
from webinars.models import Enrollment, Lesson, LessonSeries, SchoolClass, SchoolClosure, Subject
from webinars.people import STUDENTS, TEACHERS, require_group
from webinars.services.lessons import lesson_delete
from webinars.services.series_plans import (
    SeriesCounts,
    SeriesPlan,
    clash_message,
    closures_between,
    day_span,
    plan_ignored_lessons,
    plan_slots,
    series_lessons,
    series_plan,
    series_plans_apply,
)

logger = logging.getLogger("webinars.lessons")


def series_validate(
    *,
    series: LessonSeries,
    co_teacher_ids: Iterable[int],
    allow_past: bool = False,
    now: datetime | None = None,
) -> SeriesPlan:
    """Validate ``series`` (fields, people, clashes with other lessons) and return its plan.

    Raises ValidationError keyed by the series' fields; the admin form shows them in place.
    """
    now = now or timezone.now()
    co_teacher_ids = frozenset(co_teacher_ids) - {series.teacher_id}
    series.full_clean()
    require_group(field="co_teachers", group=TEACHERS, user_ids=co_teacher_ids)
    existing = series_lessons([series.pk]).get(series.pk, []) if series.pk else []
    plan = series_plan(
        series=series,
        co_teacher_ids=co_teacher_ids,
        existing=existing,
        closures=closures_between(series.first_date, series.last_date),
        now=now,
        allow_past=allow_past,
    )
    errors = defaultdict(list)
    for clash in find_clashes(plan_slots(plan), ignore=plan_ignored_lessons([plan])):
        if clash.field == "teacher":
            name = "teacher" if clash.subject_id == series.teacher_id else "co_teachers"
        else:
            name = "school_class"
        if len(errors[name]) < 3:  # the first few say enough
            errors[name].append(clash_message(clash))
    if errors:
        raise ValidationError(dict(errors))
    return plan


def _series_write(
    *, series: LessonSeries, co_teacher_ids: Iterable[int], allow_past: bool, now
) -> SeriesCounts:
    with transaction.atomic():
        is_new = series.pk is None
        plan = series_validate(
            series=series, co_teacher_ids=co_teacher_ids, allow_past=allow_past, now=now
        )
        series.save()
        series.co_teachers.set(plan.co_teacher_ids)
        counts = series_plans_apply([plan])
    logger.info(
        "series %s series=%s created=%s updated=%s cancelled=%s",
        "generated" if is_new else "updated",
        series.pk,
        counts.created,
        counts.updated,
        counts.cancelled,
    )
    return counts


def series_generate(
    *,
    series: LessonSeries,
    co_teacher_ids: Iterable[int] = (),
    allow_past: bool = False,
    now: datetime | None = None,
) -> SeriesCounts:
    """Save a new series and create its lessons (in the past only with ``allow_past``)."""
    if series.pk is not None:
        raise ValueError("series_generate() is for new series; use series_update()")
    return _series_write(
        series=series, co_teacher_ids=co_teacher_ids, allow_past=allow_past, now=now
    )


def series_update(
    *,
    series: LessonSeries,
    co_teacher_ids: Iterable[int],
    allow_past: bool = False,
    now: datetime | None = None,
) -> SeriesCounts:
    """Save an edited series and carry the change to its future, not hand-edited, lessons."""
    return _series_write(
        series=series, co_teacher_ids=co_teacher_ids, allow_past=allow_past, now=now
    )


def series_delete(*, series: LessonSeries) -> None:
    """Delete a series with all its lessons; refused, with nothing deleted, if one of its
    lessons has a READY recording (the rule and message of ``lesson_delete``).

    A lesson with a READY recording goes first, so ``lesson_delete`` refuses before any
    other lesson or recording file is touched. To keep the history, shorten the series instead.
    """
    lessons = list(series.lessons.all())
    blocking = set(
        series.lessons.filter(room__recordings__status=RecordingStatus.READY).values_list(
            "pk", flat=True
        )
    )
    lessons.sort(key=lambda lesson: lesson.pk not in blocking)
    with transaction.atomic():
        for lesson in lessons:
            lesson_delete(lesson=lesson)
        series_id = series.pk
        series.delete()
    logger.info("series deleted series=%s lessons=%s", series_id, len(lessons))


def lesson_detach_if_edited(*, lesson: Lesson, changed: Iterable[str]) -> None:
    """Mark a series lesson edited on its own when an admin changed what its series sets."""
    owned = {"subject", "school_class", "teacher", "co_teachers", "title", "is_open"}
    owned |= {"scheduled_start", "scheduled_end", "is_cancelled"}
    if lesson.series_id and owned & set(changed):
        lesson.detached_from_series = True


# --- Closures and snow days ---------------------------------------------------------------


def lessons_cancel(*, lessons: Iterable[Lesson]) -> int:
    """Cancel each lesson through ``save()``, so its room closes as for an admin edit."""
    count = 0
    for lesson in lessons:
        lesson.is_cancelled = True
        lesson.save(update_fields=["is_cancelled", "updated_at"])
        count += 1
    return count


def closure_create(
    *, start_date: date, end_date: date, reason: str, now: datetime | None = None
) -> tuple[SchoolClosure, int]:
    """Record a closure and cancel the lessons inside it that have not started yet.

    Returns ``(closure, cancelled)``. Series generate nothing inside a closure from now on.
    """
    closure = SchoolClosure(start_date=start_date, end_date=end_date, reason=reason)
    closure.full_clean()
    with transaction.atomic():
        closure.save()
        cancelled = _cancel_inside(closure, now or timezone.now())
    logger.info("closure created closure=%s cancelled=%s", closure.pk, cancelled)
    return closure, cancelled


def closure_update(*, closure: SchoolClosure, now: datetime | None = None) -> tuple[int, int]:
    """Save a closure's new dates: lessons back outside it return, lessons inside are cancelled.

    Returns ``(revived, cancelled)``.
    """
    now = now or timezone.now()
    closure.full_clean()
    before = SchoolClosure.objects.get(pk=closure.pk)
    with transaction.atomic():
        closure.save()
        revived = _series_resync_between(before.start_date, before.end_date, now)
        cancelled = _cancel_inside(closure, now)
    return revived, cancelled


def closure_delete(*, closure: SchoolClosure, now: datetime | None = None) -> int:
    """Remove a closure; the series' lessons it cancelled come back (returns how many).

    Lessons outside any series stay cancelled: nothing says who cancelled them.
    """
    with transaction.atomic():
        closure.delete()
        return _series_resync_between(closure.start_date, closure.end_date, now or timezone.now())


def _cancel_inside(closure: SchoolClosure, now: datetime) -> int:
    first, last = day_span(closure.start_date, closure.end_date)
    lessons = Lesson.objects.filter(
        is_cancelled=False, scheduled_start__gte=max(first, now), scheduled_start__lt=last
    ).order_by("scheduled_start")
    return lessons_cancel(lessons=lessons)


def _series_resync_between(first_day: date, last_day: date, now: datetime) -> int:
    """Re-plan the series that meet in these days (after a closure moved or went)."""
    affected = list(LessonSeries.objects.filter(first_date__lte=last_day, last_date__gte=first_day))
    existing = series_lessons([series.pk for series in affected])
    plans = [
        series_plan(
            series=series,
            co_teacher_ids=series.co_teachers.values_list("pk", flat=True),
            existing=existing[series.pk],
            closures=closures_between(series.first_date, series.last_date),
            now=now,
        )
        for series in affected
    ]
    counts = series_plans_apply(plans)
    return counts.updated + counts.created


def lessons_cancel_day(
    *, day: date, reason: str, now: datetime | None = None
) -> tuple[SchoolClosure, int]:
    """A snow day: cancel every lesson of ``day`` by closing the school for that day."""
    return closure_create(start_date=day, end_date=day, reason=reason, now=now)


# --- Classes ------------------------------------------------------------------------------


def class_set_students(*, school_class: SchoolClass, student_ids: Iterable[int]) -> None:
    """Replace the class's students; only members of Students may be in a class."""
    student_ids = set(student_ids)
    require_group(field="students", group=STUDENTS, user_ids=student_ids)
    school_class.students.set(student_ids)


def class_enrol_in_subject(*, school_class: SchoolClass, subject: Subject) -> int:
    """Enrol every student of the class in ``subject``; returns how many were new."""
    student_ids = list(school_class.students.values_list("pk", flat=True))
    already = set(
        Enrollment.objects.filter(subject=subject, student_id__in=student_ids).values_list(
            "student_id", flat=True
        )
    )
    new = [Enrollment(student_id=pk, subject=subject) for pk in student_ids if pk not in already]
    Enrollment.objects.bulk_create(new, ignore_conflicts=True)
    logger.info("class enrolled class=%s subject=%s new=%s", school_class.pk, subject.pk, len(new))
    return len(new)
