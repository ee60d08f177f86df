"""Reads for the register: who a lesson expects, its sessions, and the register they give.

The register's rules are the pure functions of ``webinars.register``; this module reads the
rows and hands them in (docs/register.md). Costs are constant per call, not per lesson: the
expected participants of many lessons are one query, their sessions another.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from webinars.choices import AttendanceSource, JoinRole, RegisterStatus, RoomStatus
from webinars.models import Attendance, Enrollment, Guardianship, Lesson, Room, SchoolClass
from webinars.register import Expected, Line, Register, Rules, Session, register_of
from webinars.timezones import school_time


def register_rules() -> Rules:
    return Rules(
        late_after=timedelta(minutes=settings.REGISTER_LATE_MIN),
        left_early_before=timedelta(minutes=settings.REGISTER_LEFT_EARLY_MIN),
    )


def person_name(first_name: str, last_name: str, username: str) -> str:
    return f"{first_name} {last_name}".strip() or username


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


# --- Who a lesson expects ---------------------------------------------------------------------
#
# The one place that says who a lesson's participants are, the same rule as joining
# (``selectors/viewer.py``, docs/roles.md): a lesson with a class expects that class's students;
# a lesson without one expects the students enrolled in its subject.


def _expected_rows(rows) -> dict[int, list[Expected]]:
    found: dict[int, list[Expected]] = defaultdict(list)
    for key, student_id, first, last, username in rows:
        found[key].append(
            Expected(
                person=user_key(student_id),
                name=person_name(first, last, username),
                user_id=student_id,
            )
        )
    return found


STUDENT_ORDER = ("student__last_name", "student__first_name", "student__username")
STUDENT_FIELDS = ("student_id", "student__first_name", "student__last_name", "student__username")


def expected_by_lesson(lessons: Iterable[Lesson]) -> dict[int, list[Expected]]:
    """Each lesson's expected participants, by name; at most two queries however many lessons
    (one for the classes, one for the subjects of class-less lessons)."""
    lessons = list(lessons)
    class_ids = {lesson.school_class_id for lesson in lessons if lesson.school_class_id}
    subject_ids = {lesson.subject_id for lesson in lessons if not lesson.school_class_id}
    by_class: dict[int, list[Expected]] = {}
    by_subject: dict[int, list[Expected]] = {}
    if class_ids:
        members = SchoolClass.students.through.objects.filter(
            schoolclass_id__in=class_ids, user__is_active=True
        )
        by_class = _expected_rows(
            members.order_by("user__last_name", "user__first_name", "user__username").values_list(
                "schoolclass_id", "user_id", "user__first_name", "user__last_name", "user__username"
            )
        )
    if subject_ids:
        enrolled = Enrollment.objects.filter(subject_id__in=subject_ids, student__is_active=True)
        by_subject = _expected_rows(
            enrolled.order_by(*STUDENT_ORDER).values_list("subject_id", *STUDENT_FIELDS)
        )
    return {
        lesson.pk: list(
            by_class.get(lesson.school_class_id, [])
            if lesson.school_class_id
            else by_subject.get(lesson.subject_id, [])
        )
        for lesson in lessons
    }


def expected_participants(lesson: Lesson) -> list[Expected]:
    """The lesson's expected participants (see ``expected_by_lesson``)."""
    return expected_by_lesson([lesson])[lesson.pk]


def lessons_expecting(*, student_id: int) -> Q:
    """A ``Lesson`` filter: the lessons that expect ``student_id`` (agrees with the above)."""
    in_class = Exists(
        SchoolClass.students.through.objects.filter(
            schoolclass_id=OuterRef("school_class_id"), user_id=student_id
        )
    )
    in_subject = Exists(
        Enrollment.objects.filter(subject_id=OuterRef("subject_id"), student_id=student_id)
    )
    return (Q(school_class__isnull=False) & Q(in_class)) | (
        Q(school_class__isnull=True) & Q(in_subject)
    )


# --- Sessions -----------------------------------------------------------------------------------

REPORTED = frozenset({AttendanceSource.JAAS_WEBHOOK, AttendanceSource.JITSI_EVENT})


def session_key(*, row_id: int, user_id: int | None, person_id: str) -> str:
    """Who a session belongs to: the user, else the guest id the join link carried."""
    if user_id is not None:
        return user_key(user_id)
    if person_id:
        return f"guest:{person_id}"
    return f"row:{row_id}"


def sessions_by_room(room_ids: Iterable[int]) -> dict[int, list[Session]]:
    """Every room's sessions as plain data; one query."""
    rows = (
        Attendance.objects.filter(room_id__in=list(room_ids))
        .order_by()
        .values_list(
            "id",
            "room_id",
            "user_id",
            "person_id",
            "display_name",
            "role",
            "joined_at",
            "left_at",
            "source",
        )
    )
    found: dict[int, list[Session]] = defaultdict(list)
    for row_id, room_id, user_id, person_id, name, role, joined, left, source in rows:
        found[room_id].append(
            Session(
                person=session_key(row_id=row_id, user_id=user_id, person_id=person_id),
                joined_at=joined,
                left_at=left,
                name=name,
                role=role,
                reported=source in REPORTED,
            )
        )
    return found


# --- Registers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonRegister:
    """A lesson's register, with what it was computed against (``until``: open stays' end)."""

    lesson: Lesson
    room: Room | None
    register: Register
    until: datetime

    @property
    def is_final(self) -> bool:
        return self.room is not None and self.room.status == RoomStatus.CLOSED


def _until(room: Room | None, now: datetime) -> datetime:
    """Open stays end when the room closed, or now while it runs."""
    if room is not None and room.status == RoomStatus.CLOSED and room.ended_at:
        return min(room.ended_at, now)
    return now


def _room_of(lesson: Lesson) -> Room | None:
    try:
        return lesson.room
    except Room.DoesNotExist:
        return None


def registers_for_lessons(
    lessons: Sequence[Lesson], *, now: datetime | None = None
) -> dict[int, LessonRegister]:
    """The registers of ``lessons`` (their ``room`` selected); two queries in all."""
    now = now or timezone.now()
    rules = register_rules()
    expected = expected_by_lesson(lessons)
    rooms = {lesson.pk: _room_of(lesson) for lesson in lessons}
    sessions = sessions_by_room(room.pk for room in rooms.values() if room is not None)
    found = {}
    for lesson in lessons:
        room = rooms[lesson.pk]
        until = _until(room, now)
        found[lesson.pk] = LessonRegister(
            lesson=lesson,
            room=room,
            until=until,
            register=register_of(
                expected=expected[lesson.pk],
                sessions=sessions.get(room.pk, []) if room is not None else [],
                start=lesson.scheduled_start,
                end=lesson.scheduled_end,
                until=until,
                rules=rules,
            ),
        )
    return found


def room_register(*, room: Room, now: datetime | None = None) -> LessonRegister | None:
    """The register of a lesson's room (None for a meeting's room: it has no register)."""
    if room.lesson_id is None:
        return None
    lesson = Lesson.objects.select_related("subject", "teacher", "room").get(pk=room.lesson_id)
    return registers_for_lessons([lesson], now=now)[lesson.pk]


def lessons_for_register(
    *,
    start: datetime,
    end: datetime,
    subject_id: int | None = None,
    teacher_id: int | None = None,
    extra: Q | None = None,
):
    """Lessons held (not cancelled) that started in ``start`` … ``end``, for reports."""
    lessons = Lesson.objects.filter(
        scheduled_start__gte=start, scheduled_start__lt=end, is_cancelled=False
    )
    if subject_id is not None:
        lessons = lessons.filter(subject_id=subject_id)
    if teacher_id is not None:
        lessons = lessons.filter(Q(teacher_id=teacher_id) | Q(co_teachers__id=teacher_id))
    if extra is not None:
        lessons = lessons.filter(extra)
    return (
        lessons.select_related("subject", "teacher", "room")
        .order_by("scheduled_start", "id")
        .distinct()
    )


# --- One student ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentLesson:
    lesson: Lesson
    line: Line
    is_final: bool


def student_register(
    *,
    student_id: int,
    start: datetime,
    end: datetime,
    taught_by: int | None = None,
    now: datetime | None = None,
) -> list[StudentLesson]:
    """The student's line in every lesson that expected them and started in ``start`` … ``end``
    (``taught_by``: only the lessons this teacher teaches or co-teaches)."""
    lessons = list(
        lessons_for_register(
            start=start,
            end=end,
            teacher_id=taught_by,
            extra=lessons_expecting(student_id=student_id),
        )
    )
    registers = registers_for_lessons(lessons, now=now)
    key = user_key(student_id)
    found = []
    for lesson in lessons:
        entry = registers[lesson.pk]
        line = next((line for line in entry.register.expected if line.person == key), None)
        if line is not None:
            found.append(StudentLesson(lesson=lesson, line=line, is_final=entry.is_final))
    return found


def student_ties(*, viewer_id: int, student_id: int) -> dict[str, bool]:
    """How the viewer stands to the student: themselves, a parent, one of their teachers."""
    return {
        "is_student": viewer_id == student_id,
        "is_parent": Guardianship.objects.filter(parent_id=viewer_id, child_id=student_id).exists(),
        "teaches_student": Lesson.objects.filter(
            lessons_expecting(student_id=student_id),
            Q(teacher_id=viewer_id) | Q(co_teachers__id=viewer_id),
        ).exists(),
    }


def children_by_lesson(*, parent_id: int, lessons: Sequence[Lesson]) -> dict[int, list[Expected]]:
    """For a parent's "My lessons": which of their children each lesson is for."""
    children = set(
        Guardianship.objects.filter(parent_id=parent_id).values_list("child_id", flat=True)
    )
    if not children:
        return {}
    expected = expected_by_lesson(lessons)
    return {
        lesson_id: [person for person in people if person.user_id in children]
        for lesson_id, people in expected.items()
    }


@lru_cache(maxsize=8)
def _status_words(language: str) -> dict[tuple[str, bool], str]:
    with translation.override(language):
        words = {(status.value, False): str(status.label) for status in RegisterStatus}
        words[(RegisterStatus.LATE.value, True)] = gettext("Late, left early")
    return words


def status_label(line: Line) -> str:
    """A register line's status in words (the current language); both facts when both hold.
    Looked up once per language: a term's report asks it thousands of times."""
    words = _status_words(translation.get_language() or settings.LANGUAGE_CODE)
    return words.get((line.status, line.late and line.left_early)) or words[(line.status, False)]


def _role_label(role: str) -> str:
    return str(JoinRole(role).label) if role in JoinRole.values else role


def register_rows(entry: LessonRegister) -> list[dict]:
    """The register as rows of words and school-zone times (CSV, emails, the API's CSV):
    the expected participants first, then everyone else who was there."""
    rows = []
    for section, lines in (("expected", entry.register.expected), ("other", entry.register.others)):
        for line in lines:
            rows.append(
                {
                    "section": section,
                    "name": line.name,
                    "role": _role_label(line.role) if line.role else gettext("Student"),
                    "status": line.status or "",
                    "status_label": status_label(line) if line.status else "",
                    "first_join": school_time(line.first_join),
                    "last_leave": school_time(line.last_leave),
                    "minutes": line.minutes,
                }
            )
    return rows


def register_headings() -> dict[str, str]:
    zone = settings.TIME_ZONE
    return {
        "section": gettext("Expected"),
        "name": gettext("Name"),
        "role": gettext("Role"),
        "status": gettext("Status code"),
        "status_label": gettext("Status"),
        "first_join": gettext("First join (%(zone)s)") % {"zone": zone},
        "last_leave": gettext("Last leave (%(zone)s)") % {"zone": zone},
        "minutes": gettext("Minutes"),
    }


def register_csv(entry: LessonRegister) -> str:
    """The register as CSV text, headings in words (the current language)."""
    headings = register_headings()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(headings))
    writer.writerow(headings)
    for row in register_rows(entry):
        yes = gettext("yes") if row["section"] == "expected" else gettext("no")
        writer.writerow({**row, "section": yes})
    return buffer.getvalue()


@dataclass(frozen=True)
class ChildLine:
    name: str
    status: str | None  # None until the lesson has a register to read
    status_label: str


def my_lessons_registers(*, user, upcoming: Sequence[Lesson], past: Sequence[Lesson]) -> None:
    """What "My lessons" shows beyond the timetable, set on each lesson:

    - ``children``: for a parent, the children the lesson is for (``ChildLine``s, with the
      child's status once the lesson is over);
    - ``register_entry``: for the teachers of a past lesson, its register (``LessonRegister``).

    A constant number of queries for the whole page.
    """
    children = children_by_lesson(parent_id=user.pk, lessons=[*upcoming, *past])
    held = [lesson for lesson in past if not lesson.is_cancelled]
    taught = [lesson for lesson in held if getattr(lesson, "my_role", None) == JoinRole.MODERATOR]
    wanted = [lesson for lesson in held if lesson in taught or children.get(lesson.pk)]
    registers = registers_for_lessons(wanted)
    for lesson in upcoming:
        lesson.children = [ChildLine(c.name, None, "") for c in children.get(lesson.pk, [])]
    for lesson in past:
        entry = registers.get(lesson.pk)
        lesson.register_entry = entry if lesson in taught else None
        lines = {line.person: line for line in entry.register.expected} if entry else {}
        lesson.children = []
        for child in children.get(lesson.pk, []):
            line = lines.get(child.person)
            lesson.children.append(
                ChildLine(
                    child.name,
                    line.status if line else None,
                    status_label(line) if line else "",
                )
            )
