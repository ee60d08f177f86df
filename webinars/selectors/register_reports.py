"""The admin's register reports as plain rows: one per expected participant and lesson, and
one per student over a period (docs/register.md). Times are text in the school's zone."""

from collections.abc import Sequence
from dataclasses import dataclass

from webinars.models import Lesson
from webinars.register import Summary
from webinars.selectors.register import person_name, registers_for_lessons, status_label
from webinars.timezones import school_time


@dataclass(frozen=True, slots=True)
class RegisterRow:
    lesson_id: int
    lesson_start: str
    lesson: str
    subject: str
    teacher: str
    student: str
    status: str
    status_label: str
    first_join: str
    last_leave: str
    minutes: int


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
        for line in registers[lesson.pk].register.expected:
            rows.append(
                RegisterRow(
                    lesson_id=lesson.pk,
                    lesson_start=start,
                    lesson=title,
                    subject=subject,
                    teacher=teacher,
                    student=line.name,
                    status=line.status,
                    status_label=status_label(line),
                    first_join=school_time(line.first_join),
                    last_leave=school_time(line.last_leave),
                    minutes=line.minutes,
                )
            )
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
