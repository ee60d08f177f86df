"""Planning a series' lessons: which to create, move or cancel, and writing that in bulk.

``series_plan`` reads nothing and writes nothing, so one import can plan hundreds of series
from two queries, check every planned lesson for clashes at once, then write. The rules it
follows are told in ``webinars.services.series``.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.rrule import WEEKLY, rrule
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _

from webinars.clashes import Clash, Slot, lesson_name
from webinars.models import Lesson, LessonSeries, SchoolClass, SchoolClosure
from webinars.people import person_label
from webinars.timezones import UTC, school_zone

SERIES_LESSON_FIELDS = (
    "subject_id",
    "school_class_id",
    "teacher_id",
    "title",
    "is_open",
    "scheduled_start",
    "scheduled_end",
)


@dataclass
class SeriesCounts:
    """What a series write did to its lessons."""

    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    skipped_past: int = 0

    def add(self, other: "SeriesCounts") -> None:
        for name in ("created", "updated", "cancelled", "unchanged", "skipped_past"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SeriesPlan:
    """The lesson writes one series needs: new rows, changed rows, rows to cancel."""

    series: LessonSeries
    co_teacher_ids: frozenset
    create: list[Lesson] = field(default_factory=list)
    update: list[tuple[Lesson, list[str]]] = field(default_factory=list)
    cancel: list[Lesson] = field(default_factory=list)
    counts: SeriesCounts = field(default_factory=SeriesCounts)


# --- Dates and times ----------------------------------------------------------------------


def school_instant(day: date, wall_clock: time) -> datetime:
    """``wall_clock`` on ``day`` in the school's zone, as aware UTC."""
    return datetime.combine(day, wall_clock, tzinfo=school_zone()).astimezone(UTC)


def day_span(first: date, last: date) -> tuple[datetime, datetime]:
    """``[first 00:00, the day after last 00:00)`` in the school's zone, as UTC."""
    return school_instant(first, time()), school_instant(last + timedelta(days=1), time())


def closures_between(first: date, last: date) -> list[tuple[date, date]]:
    return list(
        SchoolClosure.objects.filter(start_date__lte=last, end_date__gte=first).values_list(
            "start_date", "end_date"
        )
    )


def series_dates(*, series: LessonSeries, closures: Iterable[tuple[date, date]] = ()) -> list[date]:
    """The days the series meets: its weekday from first to last date, minus closed days."""
    rule = rrule(
        WEEKLY,
        byweekday=series.weekday - 1,
        dtstart=datetime.combine(series.first_date, time()),
        until=datetime.combine(series.last_date, time()),
    )
    closures = list(closures)
    return [
        moment.date()
        for moment in rule
        if not any(start <= moment.date() <= end for start, end in closures)
    ]


def _week(moment: datetime) -> tuple[int, int]:
    return moment.astimezone(school_zone()).isocalendar()[:2]


# --- Planning -----------------------------------------------------------------------------


def series_plan(
    *,
    series: LessonSeries,
    co_teacher_ids: Iterable[int],
    existing: list[Lesson],
    closures: Iterable[tuple[date, date]],
    now: datetime,
    allow_past: bool = False,
) -> SeriesPlan:
    """What must change so that ``existing`` (the series' lessons) match ``series``.

    Reads nothing: callers load the lessons (``series_lessons``) and closures, in bulk for an
    import of many series, and write the plan with ``series_plans_apply``.
    """
    plan = SeriesPlan(series=series, co_teacher_ids=frozenset(co_teacher_ids))
    by_week: dict[tuple[int, int], Lesson] = {}
    strays: list[Lesson] = []
    for lesson in sorted(existing, key=lambda lesson: lesson.scheduled_start):
        key = _week(lesson.scheduled_start)
        if key in by_week:
            strays.append(lesson)
        else:
            by_week[key] = lesson
    for day in series_dates(series=series, closures=closures):
        start = school_instant(day, series.start_time)
        wanted = {
            "subject_id": series.subject_id,
            "school_class_id": series.school_class_id,
            "teacher_id": series.teacher_id,
            "title": series.lesson_title,
            "is_open": series.is_open,
            "scheduled_start": start,
            "scheduled_end": school_instant(day, series.end_time),
        }
        lesson = by_week.pop(_week(start), None)
        if lesson is None:
            if start > now or allow_past:
                plan.create.append(Lesson(series=series, **wanted))
            else:
                plan.counts.skipped_past += 1
            continue
        if lesson.detached_from_series or lesson.scheduled_start <= now:
            plan.counts.unchanged += 1
            continue
        changed = [name for name, value in wanted.items() if getattr(lesson, name) != value]
        if lesson.is_cancelled:
            changed.append("is_cancelled")  # the series cancelled it; its date is back
        if lesson.known_co_teacher_ids != plan.co_teacher_ids:
            changed.append("co_teachers")
        if changed:
            for name, value in wanted.items():
                setattr(lesson, name, value)
            lesson.is_cancelled = False
            plan.update.append((lesson, changed))
        else:
            plan.counts.unchanged += 1
    for lesson in [*by_week.values(), *strays]:  # dates the series no longer has
        untouchable = lesson.scheduled_start <= now or lesson.detached_from_series
        if not untouchable and not lesson.is_cancelled:
            lesson.is_cancelled = True
            plan.cancel.append(lesson)
    plan.counts.created = len(plan.create)
    plan.counts.updated = len(plan.update)
    plan.counts.cancelled = len(plan.cancel)
    return plan


def series_lessons(series_ids: Iterable[int]) -> dict[int, list[Lesson]]:
    """The lessons of each series, with ``known_co_teacher_ids`` set: two queries in all."""
    lessons = list(Lesson.objects.filter(series_id__in=list(series_ids)))
    co_teachers = defaultdict(set)
    through = Lesson.co_teachers.through.objects.filter(lesson__series_id__in=list(series_ids))
    for lesson_id, user_id in through.values_list("lesson_id", "user_id"):
        co_teachers[lesson_id].add(user_id)
    grouped = defaultdict(list)
    for lesson in lessons:
        lesson.known_co_teacher_ids = frozenset(co_teachers[lesson.pk])
        grouped[lesson.series_id].append(lesson)
    return grouped


def plan_slots(plan: SeriesPlan, *, handle=None, name: str | None = None) -> list[Slot]:
    """The plan's new and moved lessons as slots for the clash check."""
    series = plan.series
    teachers = frozenset({series.teacher_id, *plan.co_teacher_ids})
    lessons = [*plan.create, *(lesson for lesson, _changed in plan.update)]
    return [
        Slot(
            start=lesson.scheduled_start,
            end=lesson.scheduled_end,
            teacher_ids=teachers,
            class_id=series.school_class_id,
            name=name
            or lesson_name(
                title=series.lesson_title,
                code=series.subject.code,
                start=lesson.scheduled_start,
                end=lesson.scheduled_end,
            ),
            handle=handle,
        )
        for lesson in lessons
    ]


def plan_ignored_lessons(plans: Iterable[SeriesPlan]) -> Q | None:
    """The lessons the plans move or cancel: their old places are no obstacle to the new."""
    pks = [lesson.pk for plan in plans for lesson, _changed in plan.update]
    pks += [lesson.pk for plan in plans for lesson in plan.cancel]
    return Q(pk__in=pks) if pks else None


def clash_message(clash: Clash) -> str:
    """``Anna Ivanova (anna) already has “Geometry” (GEO, 2026-09-07 08:30–09:15) then``."""
    if clash.field == "teacher":
        who = person_label(get_user_model().objects.get(pk=clash.subject_id))
    else:
        who = _("class %(name)s") % {"name": SchoolClass.objects.get(pk=clash.subject_id)}
    return _("%(this)s overlaps %(other)s: %(who)s cannot be in both.") % {
        "this": clash.slot.name,
        "other": clash.other_name,
        "who": who,
    }


# --- Writing ------------------------------------------------------------------------------


def series_plans_apply(plans: list[SeriesPlan]) -> SeriesCounts:
    """Write the plans: one bulk insert for all new lessons, a ``save()`` per changed one."""
    totals = SeriesCounts()
    new_lessons = [lesson for plan in plans for lesson in plan.create]
    Lesson.objects.bulk_create(new_lessons, batch_size=1000)
    through = Lesson.co_teachers.through
    through.objects.bulk_create(
        [
            through(lesson_id=lesson.pk, user_id=user_id)
            for plan in plans
            for lesson in plan.create
            for user_id in plan.co_teacher_ids
        ],
        batch_size=1000,
    )
    for plan in plans:
        for lesson, changed in plan.update:
            fields = [name.removesuffix("_id") for name in changed if name != "co_teachers"]
            lesson.save(update_fields=[*fields, "updated_at"])
            if "co_teachers" in changed:
                lesson.co_teachers.set(plan.co_teacher_ids)
        for lesson in plan.cancel:
            lesson.save(update_fields=["is_cancelled", "updated_at"])
        totals.add(plan.counts)
    return totals
