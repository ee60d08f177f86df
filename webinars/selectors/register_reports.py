"""The admin's register reports as plain rows: one per expected participant and lesson, and
one per student over a period (docs/register.md). Times are text in the school's zone."""

from collections.abc import Sequence
from dataclasses import dataclass

from webinars.models import Lesson
from webinars.register import Line, Summary
from webinars.selectors.register import person_name, registers_for_lessons, status_label
from webinars.timezones import school_time


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One expected participant in one lesson. The lesson's words are made once per lesson;
    the line's on demand, so a page of 50 rows formats 50 lines, not a term's 6,000."""

    lesson_start: str
    lesson: str
    school_class: str
    subject: str
    teacher: str
    line: Line

    @property
    def student(self) -> str:
        return self.line.name

    @property
    def status(self) -> str:
        return self.line.status

    @property
    def status_label(self) -> str:
        return status_label(self.line)

    @property
    def first_join(self) -> str:
        return school_time(self.line.first_join)

    @property
    def last_leave(self) -> str:
        return school_time(self.line.last_leave)

    @property
    def minutes(self) -> int:
        return self.line.minutes


@dataclass(frozen=True, slots=True)
class StudentRow:
    student: str
    expected: int
    attended: int
    late: int
    left_early: int
    absent: int
    minutes: int


def _teacher_name(lesson: Lesson) -> str:
    teacher = lesson.teacher
    return person_name(teacher.first_name, teacher.last_name, teacher.username)


def register_report_rows(lessons: Sequence[Lesson]) -> list[RegisterRow]:
    """Every expected participant of every lesson, lesson by lesson (three queries in all)."""
    registers = registers_for_lessons(lessons)
    rows = []
    for lesson in lessons:
        start, title = school_time(lesson.scheduled_start), lesson.title
        subject, teacher = lesson.subject.name, _teacher_name(lesson)
        school_class = lesson.school_class.name if lesson.school_class_id else ""
        for line in registers[lesson.pk].register.expected:
            rows.append(RegisterRow(start, title, school_class, subject, teacher, line))
    return rows


def student_summary_rows(lessons: Sequence[Lesson]) -> list[StudentRow]:
    """Each expected student's lessons, attendance, lateness and minutes over ``lessons``."""
    registers = registers_for_lessons(lessons)
    summaries: dict[str, tuple[str, Summary]] = {}
    for entry in registers.values():
        for line in entry.register.expected:
            name, summary = summaries.get(line.person, (line.name, Summary()))
            summaries[line.person] = (name, summary.add(line))
    rows = [
        StudentRow(
            student=name,
            expected=s.expected,
            attended=s.attended,
            late=s.late,
            left_early=s.left_early,
            absent=s.absent,
            minutes=s.minutes,
        )
        for name, s in summaries.values()
    ]
    return sorted(rows, key=lambda row: row.student)
