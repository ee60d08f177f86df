"""Reads of a person's timetable (/my/, personal calendar)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Prefetch, Q
from django.utils import timezone

from webinars import roles
from webinars.choices import RecordingStatus
from webinars.models import Lesson, Recording
from webinars.selectors.viewer import (
    TIES,
    viewer_facts_for,
    viewer_facts_from_ties,
    viewer_ties,
)

# --- "My lessons" ---------------------------------------------------------------------------


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
    """The lessons a signed-in user may join, each with ``my_role`` set (docs/roles.md).

    Taught and co-taught lessons (moderator), enrolled subjects (participant), children's
    subjects for parents and every lesson for school staff (observer); ``my_role`` is the role
    the lesson's Join button gives (``roles.decide_join``). Cancelled lessons stay in both lists
    (marked so on the page and in the calendar), so nobody wonders where a lesson went. The
    viewer's ties are EXISTS subqueries (``viewer_ties``), so the cost is a constant four
    queries (who the user is, the two lists, the READY recordings of the past ones) whatever
    the timetable's size.
    """
    now = now or timezone.now()
    viewer = viewer_facts_for(user=user)
    lessons = Lesson.objects.annotate(**viewer_ties(user_id=user.pk)).select_related(
        "subject", "teacher", "room"
    )
    if not viewer.is_school_staff:
        lessons = lessons.filter(reduce(or_, (Q(**{tie: True}) for tie in TIES), Q(teacher=user)))
    upcoming = list(
        lessons.filter(scheduled_end__gte=now, scheduled_start__lte=now + ahead).order_by(
            "scheduled_start", "id"
        )[:limit]
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
        facts = viewer_facts_from_ties(viewer=viewer, lesson=lesson)
        lesson.my_role = roles.decide_join(facts).role
    return MyLessons(upcoming=upcoming, past=past)
