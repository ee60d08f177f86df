"""Reads of a person's timetable (/my/, personal calendar)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from webinars.choices import STAFF_ROLE_GROUPS, JoinRole, RecordingStatus
from webinars.models import Enrollment, Lesson, Recording

# --- "My lessons" (SPEC §6 /my/) ------------------------------------------------------------


def user_has_staff_role(*, user) -> bool:
    """Staff, superusers and members of the leadership groups observe every lesson (SPEC §4)."""
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=STAFF_ROLE_GROUPS).exists()


@dataclass(frozen=True)
class MyLessons:
    upcoming: list[Lesson]
    past: list[Lesson]


def lessons_for_user(
    *,
    user,
    now: datetime | None = None,
    ahead: timedelta = timedelta(days=14),
    back: timedelta = timedelta(days=30),
    limit: int = 50,
) -> MyLessons:
    """The lessons a signed-in user may join, each with ``my_role`` set (SPEC §4 table).

    Taught and co-taught lessons (moderator), enrolled subjects (participant), children's
    subjects for parents and every lesson for staff roles (observer). Membership is computed
    in SQL with EXISTS subqueries, so the cost is a constant four queries (staff check, the
    two lists, the READY recordings of the past ones) whatever the timetable's size.
    """
    now = now or timezone.now()
    staff = user_has_staff_role(user=user)
    co_taught = Lesson.co_teachers.through.objects.filter(lesson_id=OuterRef("pk"), user_id=user.pk)
    enrolled = Enrollment.objects.filter(student_id=user.pk, subject_id=OuterRef("subject_id"))
    as_parent = Enrollment.objects.filter(
        student__guardians__parent_id=user.pk, subject_id=OuterRef("subject_id")
    )
    lessons = Lesson.objects.annotate(
        is_co_teacher=Exists(co_taught),
        is_enrolled=Exists(enrolled),
        is_parent=Exists(as_parent),
    ).select_related("subject", "teacher", "room")
    if not staff:
        lessons = lessons.filter(
            Q(teacher_id=user.pk) | Q(is_co_teacher=True) | Q(is_enrolled=True) | Q(is_parent=True)
        )
    upcoming = list(
        lessons.filter(
            scheduled_end__gte=now, scheduled_start__lte=now + ahead, is_cancelled=False
        ).order_by("scheduled_start", "id")[:limit]
    )
    past = list(
        lessons.filter(scheduled_end__lt=now, scheduled_end__gte=now - back)
        .prefetch_related(
            Prefetch(
                "room__recordings",
                queryset=Recording.objects.filter(status=RecordingStatus.READY).order_by(
                    "created_at", "id"
                ),
                to_attr="ready_recordings",
            )
        )
        .order_by("-scheduled_start", "-id")[:limit]
    )
    for lesson in (*upcoming, *past):
        lesson.my_role = _role_in_lesson(lesson=lesson, user=user)
    return MyLessons(upcoming=upcoming, past=past)


def _role_in_lesson(*, lesson: Lesson, user) -> str:
    if lesson.teacher_id == user.pk or lesson.is_co_teacher:
        return JoinRole.MODERATOR
    if lesson.is_enrolled:
        return JoinRole.PARTICIPANT
    return JoinRole.OBSERVER
