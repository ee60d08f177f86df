"""``timetable_import``: one row per weekly series, identified by ``ref`` or by its slot.

A row names its series by the school timetable system's ``ref`` when it has one (then every
other cell may change, the start and weekday too), otherwise by subject + class + weekday +
start. Importing the same file again changes nothing; a changed row updates its series and the
series' future lessons (``webinars.services.series``). The whole file is checked first, clashes
included (one query for every planned lesson), and written in one transaction or not at all.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from webinars.clashes import find_clashes
from webinars.models import LessonSeries, SchoolClass, Subject
from webinars.people import TEACHERS, not_in_group_message, people_in
from webinars.services.imports.sheets import (
    ImportReport,
    PeopleIndex,
    RowError,
    SheetHeaderError,
    Tally,
    cell_text,
    parse_date,
    parse_time,
    parse_weekday,
    parse_yes_no,
    sheet_read,
)
from webinars.services.series_plans import (
    SeriesCounts,
    SeriesPlan,
    clash_message,
    closures_between,
    plan_ignored_lessons,
    plan_slots,
    series_lessons,
    series_plan,
    series_plans_apply,
)

REQUIRED = ("subject", "teacher", "weekday", "start", "end", "first_date", "last_date")
OPTIONAL = ("class", "open", "title", "ref")
# Where a model field's error is reported: the file's column of that field.
COLUMN_OF = {
    "subject": "subject",
    "school_class": "class",
    "teacher": "teacher",
    "co_teachers": "teacher",
    "weekday": "weekday",
    "start_time": "start",
    "end_time": "end",
    "first_date": "first_date",
    "last_date": "last_date",
    "is_open": "open",
    "title": "title",
    "ref": "ref",
}
COMPARED = (
    "subject_id",
    "school_class_id",
    "teacher_id",
    "weekday",
    "start_time",
    "end_time",
    "first_date",
    "last_date",
    "is_open",
    "title",
    "ref",
)


@dataclass
class _Row:
    number: int
    series: LessonSeries
    outcome: str  # created | updated | unchanged
    plan: SeriesPlan | None = None


class _Lookups:
    """Everything the rows refer to, read once: subjects, classes, teachers, known series."""

    def __init__(self, rows: list[tuple[int, dict]]):
        self.subjects = {subject.code.lower(): subject for subject in Subject.objects.all()}
        self.classes = {item.name.lower(): item for item in SchoolClass.objects.all()}
        self.people = PeopleIndex(cell_text(cells.get("teacher")) for _n, cells in rows)
        self.teacher_ids = set(people_in(TEACHERS).values_list("pk", flat=True))
        refs = {cell_text(cells.get("ref")) for _n, cells in rows} - {""}
        self.by_ref = {series.ref: series for series in LessonSeries.objects.filter(ref__in=refs)}
        self.by_slot = defaultdict(list)
        for series in LessonSeries.objects.filter(ref=""):
            self.by_slot[_slot_key(series)].append(series)
        known = [*self.by_ref.values(), *(s for group in self.by_slot.values() for s in group)]
        self.co_teachers = defaultdict(set)
        through = LessonSeries.co_teachers.through.objects.filter(
            lessonseries_id__in=[series.pk for series in known]
        )
        for series_id, user_id in through.values_list("lessonseries_id", "user_id"):
            self.co_teachers[series_id].add(user_id)


def _slot_key(series: LessonSeries) -> tuple:
    return (series.subject_id, series.school_class_id, series.weekday, series.start_time)


def timetable_import(
    *,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    allow_past: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Check a timetable file and, unless ``dry_run`` or a row is bad, write it all.

    Lessons before ``now`` are created only with ``allow_past``. ImportFileError when the file
    cannot be read at all; everything else is in the report.
    """
    now = now or timezone.now()
    report = ImportReport(dry_run=dry_run)
    try:
        sheet = sheet_read(content=content, filename=filename, required=REQUIRED, optional=OPTIONAL)
    except SheetHeaderError as error:
        report.errors = error.errors
        return report
    lookups = _Lookups(sheet.rows)
    rows, seen = [], {}
    for number, cells in sheet.rows:
        row = _read_row(number, cells, sheet.columns, lookups, report.errors)
        if row is None:
            continue
        key = ("ref", row.series.ref) if row.series.ref else ("slot", *_slot_key(row.series))
        if key in seen:
            report.errors.append(
                RowError(
                    number,
                    "ref" if row.series.ref else "start",
                    _("same series as row %(row)s") % {"row": seen[key]},
                )
            )
            continue
        seen[key] = number
        rows.append(row)

    _plan(rows, lookups, now=now, allow_past=allow_past, errors=report.errors)
    report.errors.sort(key=lambda error: error.row)
    series_tally, lessons = Tally(), SeriesCounts()
    for row in rows:
        series_tally.count(row.outcome)
        lessons.add(row.plan.counts)
    report.lines = [
        _("series: %(tally)s") % {"tally": series_tally},
        _("lessons: %(created)s created, %(updated)s updated, %(cancelled)s cancelled")
        % {"created": lessons.created, "updated": lessons.updated, "cancelled": lessons.cancelled},
    ]
    if lessons.skipped_past:
        report.lines.append(
            _("lessons in the past not created: %(count)s (allow past lessons to create them)")
            % {"count": lessons.skipped_past}
        )
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for row in rows:
            if row.outcome != "unchanged":
                row.series.save()
        series_plans_apply([row.plan for row in rows])
    report.written = True
    return report


def _read_row(number, cells, columns, lookups: _Lookups, errors: list) -> _Row | None:
    """The row's series, found or new, with the row's values set; None if a cell is bad."""
    values, bad = {}, []

    def cell(column, parse):
        try:
            values[column] = parse(cells.get(column))
        except ValueError as error:
            bad.append(RowError(number, column, str(error)))

    def lookup(column, table, noun):
        name = cell_text(cells.get(column))
        if name and name.lower() not in table:
            bad.append(
                RowError(number, column, _('no %(noun)s "%(name)s"') % {"noun": noun, "name": name})
            )
        return table.get(name.lower()) if name else None

    subject = lookup("subject", lookups.subjects, _("subject"))
    school_class = lookup("class", lookups.classes, _("class"))
    teacher = _teacher(number, cell_text(cells.get("teacher")), lookups, bad)
    cell("weekday", parse_weekday)
    cell("start", parse_time)
    cell("end", parse_time)
    cell("first_date", parse_date)
    cell("last_date", parse_date)
    if "open" in columns:
        cell("open", parse_yes_no)
    if not cell_text(cells.get("subject")):
        bad.append(RowError(number, "subject", _("empty")))
    if bad:
        errors.extend(bad)
        return None

    ref = cell_text(cells.get("ref"))
    wanted = {
        "subject": subject,
        "school_class": school_class,
        "teacher": teacher,
        "weekday": values["weekday"],
        "start_time": values["start"],
        "end_time": values["end"],
        "first_date": values["first_date"],
        "last_date": values["last_date"],
        "ref": ref,
    }
    if "open" in columns:
        wanted["is_open"] = values["open"]
    if "title" in columns:
        wanted["title"] = cell_text(cells.get("title"))
    series = _known_series(number, wanted, lookups, errors)
    if series is False:
        return None
    outcome = "created" if series is None else "unchanged"
    series = series or LessonSeries()
    before = [getattr(series, name) for name in COMPARED]
    for name, value in wanted.items():
        setattr(series, name, value)
    if outcome == "unchanged" and before != [getattr(series, name) for name in COMPARED]:
        outcome = "updated"
    try:
        series.full_clean()
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            column = COLUMN_OF.get(name, "row" if name == NON_FIELD_ERRORS else name)
            errors.extend(RowError(number, column, message) for message in messages)
        return None
    return _Row(number=number, series=series, outcome=outcome)


def _teacher(number, name, lookups: _Lookups, bad: list):
    try:
        teacher = lookups.people.find(name) if name else None
    except ValueError as error:
        bad.append(RowError(number, "teacher", str(error)))
        return None
    if teacher is None:
        bad.append(RowError(number, "teacher", _('no teacher "%(name)s"') % {"name": name}))
    elif teacher.pk not in lookups.teacher_ids:
        bad.append(
            RowError(number, "teacher", not_in_group_message(users=[teacher], group=TEACHERS))
        )
    return teacher


def _known_series(number, wanted, lookups: _Lookups, errors: list):
    """The series this row describes (None: a new one; False: ambiguous, reported)."""
    if wanted["ref"]:
        return lookups.by_ref.get(wanted["ref"])
    key = (
        wanted["subject"].pk,
        wanted["school_class"].pk if wanted["school_class"] else None,
        wanted["weekday"],
        wanted["start_time"],
    )
    matches = lookups.by_slot.get(key, [])
    if len(matches) > 1:
        errors.append(
            RowError(
                number,
                "ref",
                _("several series have this subject, class, weekday and start; give each a ref"),
            )
        )
        return False
    return matches[0] if matches else None


def _plan(rows: list[_Row], lookups: _Lookups, *, now, allow_past, errors: list) -> None:
    """Plan every row's lessons (two queries for all existing lessons), then check clashes."""
    if not rows:
        return
    known_ids = [row.series.pk for row in rows if row.series.pk]
    existing = series_lessons(known_ids)
    closures = closures_between(
        min(row.series.first_date for row in rows), max(row.series.last_date for row in rows)
    )
    for row in rows:
        row.plan = series_plan(
            series=row.series,
            co_teacher_ids=lookups.co_teachers.get(row.series.pk, set()),
            existing=existing.get(row.series.pk, []),
            closures=closures,
            now=now,
            allow_past=allow_past,
        )
    slots = [slot for row in rows for slot in plan_slots(row.plan, handle=row.number)]
    reported = set()
    for clash in find_clashes(slots, ignore=plan_ignored_lessons([row.plan for row in rows])):
        column = "teacher" if clash.field == "teacher" else "class"
        if (clash.slot.handle, column) in reported:
            continue
        reported.add((clash.slot.handle, column))
        message = clash_message(clash)
        if clash.other_slot is not None:
            message += " " + _("(row %(row)s)") % {"row": clash.other_slot.handle}
        errors.append(RowError(clash.slot.handle, column, message))
