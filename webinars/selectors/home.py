"""Reads behind the home page: what is on now and next, for everyone and for the visitor."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from webinars.models import Lesson, Room
from webinars.pages import MeetingPage
from webinars.selectors.open_lessons import open_lessons_listing
from webinars.selectors.timetable import lessons_for_user


@dataclass(frozen=True)
class HomeListing:
    live: list[Room]
    upcoming: list[Room]
    live_meetings: list[MeetingPage]
    meetings: list[MeetingPage]
    mine: list[Lesson] = field(default_factory=list)


def public_meetings_ahead(*, now: datetime, limit: int) -> list[MeetingPage]:
    """Published meetings open to anyone that have not ended yet, soonest first."""
    return list(
        MeetingPage.objects.live()
        .public()
        .filter(is_open=True, scheduled_end__gt=now)
        .order_by("scheduled_start", "id")[:limit]
    )


def home_listing(
    *, user=None, now: datetime | None = None, lessons_limit: int = 6, mine_limit: int = 5
) -> HomeListing:
    """Open lessons live now and next, public meetings, and a signed-in ``user``'s next lessons
    (with the role each gives them, over the coming week).

    Built from the open-lessons and timetable selectors, so the home page shows what those pages
    show: a handful of queries whatever the timetable's size.
    """
    now = now or timezone.now()
    lessons = open_lessons_listing(
        now=now, lessons_limit=lessons_limit, recordings_limit=0, subjects=[]
    )
    mine = []
    if user is not None and user.is_authenticated:
        mine = lessons_for_user(
            user=user, now=now, ahead=timedelta(days=7), back=timedelta(0), limit=mine_limit
        ).upcoming
    meetings = public_meetings_ahead(now=now, limit=lessons_limit)
    return HomeListing(
        live=lessons.live,
        upcoming=lessons.upcoming,
        live_meetings=[meeting for meeting in meetings if meeting.scheduled_start <= now],
        meetings=[meeting for meeting in meetings if meeting.scheduled_start > now],
        mine=mine,
    )
