"""A demo school around "now": idempotent, so running it twice leaves the same counts."""

import logging
import re
from contextlib import contextmanager
from datetime import time, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation
from django.utils.translation import gettext
from wagtail.models import Site

from home.models import HomePage
from webinars.choices import STAFF_ROLE_GROUPS, RoomStatus
from webinars.models import (
    Enrollment,
    Guardianship,
    Lesson,
    LessonSeries,
    Room,
    SchoolClass,
    Subject,
)
from webinars.pages import MeetingIndexPage, MeetingPage, OpenLessonsPage
from webinars.people import SCHOOL_PEOPLE_GROUPS
from webinars.services.series import series_generate

DEMO_PASSWORD = "cedar-demo"  # noqa: S105 - printed demo credentials, dev data only
SUBJECTS = [("Mathematics", "MATH"), ("Biology", "BIO"), ("History", "HIST")]
TEACHERS = [
    ("teacher1", "Anna", "Ivanova"),
    ("teacher2", "Boris", "Petrov"),
    ("teacher3", "Clara", "Smirnova"),
]
LEADERSHIP = dict(
    zip(STAFF_ROLE_GROUPS, ("director", "headteacher", "methodist", "auditor"), strict=True)
)
# (hours from now the lesson starts, minutes long, open?) — one live now, some today, some past.
LESSON_PLAN = [
    (-0.25, 45, False),  # live now
    (-0.1, 40, True),  # an open lesson, live now
    (1, 45, False),
    (2, 45, True),  # an open lesson later today
    (3, 45, False),
    (4, 45, False),
    (26, 45, True),  # an open lesson tomorrow
    *[(hours, 45, False) for hours in (5, 6, 24, 25, 27, 28, 48, 49, 50, 72, 73, 96, 97)],
    *[
        (hours, 45, False)
        for hours in (-2, -3, -4, -24, -25, -26, -48, -49, -72, -73, -96, -120, -144)
    ],
]
# Two classes of ten students, and a weekly series for each (ref, class, subject code, teacher
# index, ISO weekday, start hour). The series start a week from now, after the one-off lessons
# above, so the two never clash whatever the time of day the seed runs.
CLASSES = ("7A", "7B")
SERIES = [
    ("demo-7a-math", "7A", "MATH", 0, 1, 14),
    ("demo-7b-bio", "7B", "BIO", 1, 3, 15),
]


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    """The shared demo password, hashed once for every demo account: a password hash costs
    about half a second by design (PBKDF2), and the demo school has some forty accounts, so
    hashing it per account was a quarter of the first run. (Demo data only: real accounts
    get their own salt through the admin or the people import.)"""
    return make_password(DEMO_PASSWORD)


def _user(username: str, first: str = "", last: str = "", **flags) -> tuple[User, bool]:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@cedar.example",
            **flags,
        },
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    return user, created


def _minute(when):
    return when.replace(second=0, microsecond=0) - timedelta(minutes=when.minute % 5)


HOME_TITLE = "Cedar school webinars"  # the home page's title as the migration creates it


def ensure_site_sections() -> tuple[OpenLessonsPage, MeetingIndexPage]:
    """The open-lessons page and the meetings index under the site's HomePage, titled in the
    active language (the command runs in the school's, ``LANGUAGE_CODE``)."""
    home = HomePage.objects.first()
    feed = OpenLessonsPage.objects.first()
    if feed is None:
        feed = home.add_child(
            instance=OpenLessonsPage(title=gettext("Open lessons"), slug="open-lessons")
        )
    meetings = MeetingIndexPage.objects.first()
    if meetings is None:
        meetings = home.add_child(
            instance=MeetingIndexPage(title=gettext("Meetings"), slug="meetings")
        )
    return feed, meetings


def name_the_site_in_its_language() -> None:
    """The migration's English home page title and site name, in the school's language when the
    catalogue has it (a name someone changed stays as it is)."""
    school = gettext(settings.WAGTAIL_SITE_NAME)
    if school == settings.WAGTAIL_SITE_NAME:
        return
    HomePage.objects.filter(title=HOME_TITLE).update(title=school, draft_title=school)
    Site.objects.filter(
        is_default_site=True, site_name__in=["", "Cedar school", settings.WAGTAIL_SITE_NAME]
    ).update(site_name=school)


# --- Re-running: the demo timetable moves to "now" -------------------------------------------

DEMO_MARK = "Demo lesson created by seed_demo."  # the description of every lesson it creates
MOVE_AFTER = timedelta(minutes=20)  # drift of the plan after which the demo lessons move


def _discard_room(room: Room) -> None:
    """A demo room that closed, with what it gathered (attendance, recordings and their files):
    its lesson moves, and gets a fresh room as a newly seeded lesson would."""
    for recording in room.recordings.all():
        if recording.file:
            recording.file.delete(save=False)
    room.recordings.all().delete()
    room.delete()


def move_demo_timetable(*, now) -> int:
    """Lay the demo lessons out around ``now`` again, so a re-run on a later day (or hours
    later) finds lessons live now, later today and in the past, as on the first day.

    Only lessons this command created move (DEMO_MARK and their "— demo lesson N" title), and
    only once the plan has drifted by MOVE_AFTER, so a quick restart leaves rooms people are in
    alone. A moved lesson's unclosed room follows it (``room_follow_lesson``); a closed one is
    discarded. Returns how many lessons moved.
    """
    demo = {}
    for lesson in Lesson.objects.filter(description=DEMO_MARK, title__contains="— demo lesson "):
        found = re.search(r"— demo lesson (\d+)$", lesson.title)
        if found and 1 <= int(found.group(1)) <= len(LESSON_PLAN):
            demo[int(found.group(1))] = lesson
    first = demo.get(1)
    if (
        first is None
        or abs(first.scheduled_start - _minute(now + timedelta(hours=LESSON_PLAN[0][0])))
        < MOVE_AFTER
    ):
        return 0
    moved = 0
    for n, lesson in sorted(demo.items()):
        hours, minutes, _is_open = LESSON_PLAN[n - 1]
        start = _minute(now + timedelta(hours=hours))
        if lesson.scheduled_start == start:
            continue
        room = Room.objects.filter(lesson=lesson).first()
        if room is not None and room.status == RoomStatus.CLOSED:
            _discard_room(room)
        lesson.scheduled_start, lesson.scheduled_end = start, start + timedelta(minutes=minutes)
        lesson.save(update_fields=["scheduled_start", "scheduled_end", "updated_at"])
        moved += 1
    return moved


def migrations_pending() -> bool:
    """Whether ``migrate`` has anything to apply (what ``migrate --check`` asks). A second run
    skips ``migrate`` then: with nothing to apply it would still refresh every content type
    and permission (its post_migrate handlers), seconds of a restart for no change."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@contextmanager
def _services_quiet():
    """The services' INFO lines ("room created …") held back while seeding: the command's own
    summary is what the run command shows."""
    logger = logging.getLogger("webinars")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Migrate the database, create (or complete) a demo school with lessons around now, "
        "and print the logins. Run again later, it moves the demo timetable to the new now."
    )

    def execute(self, *args, **options):
        """The run command's one start-up step: migrate (outside the seed's transaction, as
        SQLite's schema changes need) when a migration is unapplied, then seed."""
        if migrations_pending():
            call_command("migrate", interactive=False, verbosity=0)
        with _services_quiet():
            return super().execute(*args, **options)

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):  # page titles in the school's
            self._seed()

    @transaction.atomic
    def _seed(self):
        now = timezone.now()
        admin, _ = _user("admin", "School", "Admin", is_staff=True, is_superuser=True)
        subjects = [
            Subject.objects.get_or_create(code=code, defaults={"name": name})[0]
            for name, code in SUBJECTS
        ]
        teachers = [_user(u, f, last, is_staff=False)[0] for u, f, last in TEACHERS]
        students = [_user(f"student{i:02d}", "Student", f"No. {i}")[0] for i in range(1, 21)]
        parents = [_user(f"parent{i:02d}", "Parent", f"No. {i}")[0] for i in range(1, 11)]
        for group_name, members in zip(
            SCHOOL_PEOPLE_GROUPS, (teachers, students, parents), strict=True
        ):
            Group.objects.get_or_create(name=group_name)[0].user_set.add(*members)
        classes = {}
        for n, name in enumerate(CLASSES):
            classes[name] = SchoolClass.objects.get_or_create(name=name)[0]
            classes[name].students.add(*students[10 * n : 10 * n + 10])
        for group_name, username in LEADERSHIP.items():
            user, _ = _user(username, group_name, "")
            user.groups.add(Group.objects.get_or_create(name=group_name)[0])
        for i, student in enumerate(students):
            Enrollment.objects.get_or_create(student=student, subject=subjects[i % 3])
            Enrollment.objects.get_or_create(student=student, subject=subjects[(i + 1) % 3])
        for i, parent in enumerate(parents):
            for child in students[2 * i : 2 * i + 2]:
                Guardianship.objects.get_or_create(parent=parent, child=child)

        moved_lessons = move_demo_timetable(now=now)
        created_lessons = 0
        for n, (hours, minutes, is_open) in enumerate(LESSON_PLAN, start=1):
            subject, teacher = subjects[n % 3], teachers[n % 3]
            start = _minute(now + timedelta(hours=hours))
            _lesson, created = Lesson.objects.get_or_create(
                title=f"{subject.name} — demo lesson {n}",
                defaults={
                    "subject": subject,
                    "teacher": teacher,
                    "scheduled_start": start,
                    "scheduled_end": start + timedelta(minutes=minutes),
                    "is_open": is_open,
                    "description": DEMO_MARK,
                },
            )
            created_lessons += created

        self._series(now, subjects, teachers, classes)

        name_the_site_in_its_language()
        _feed, meetings = ensure_site_sections()
        if not MeetingPage.objects.exists():
            start = _minute(now + timedelta(hours=3))
            meeting = meetings.add_child(
                instance=MeetingPage(
                    title=gettext("Parents' evening"),
                    slug="parents-evening",
                    intro=gettext("The whole school meets the parents: plans for the term."),
                    scheduled_start=start,
                    scheduled_end=start + timedelta(hours=1),
                    is_open=True,
                )
            )
            meeting.hosts.add(admin, teachers[0])
            meeting.save_revision(user=admin).publish()

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo school ready: {Subject.objects.count()} subjects, "
                f"{Lesson.objects.count()} lessons ({created_lessons} new, "
                f"{moved_lessons} moved to now), "
                f"{User.objects.count()} users."
            )
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin        — Wagtail admin, superuser")
        self.stdout.write("  teacher1..3  — teachers (moderators of their lessons)")
        self.stdout.write("  student01..20 — students; parent01..10 — parents")
        self.stdout.write(
            "  director, headteacher, methodist, auditor — school leadership (observers)"
        )
        self.stdout.write(
            "  classes 7A (student01..10) and 7B (student11..20), one weekly series each"
        )

    def _series(self, now, subjects, teachers, classes) -> None:
        by_code = {subject.code: subject for subject in subjects}
        first = timezone.localdate(now) + timedelta(days=7)
        for ref, class_name, code, teacher, weekday, hour in SERIES:
            if LessonSeries.objects.filter(ref=ref).exists():
                continue
            series_generate(
                series=LessonSeries(
                    ref=ref,
                    subject=by_code[code],
                    school_class=classes[class_name],
                    teacher=teachers[teacher],
                    title=f"{by_code[code].name} {class_name}",
                    weekday=weekday,
                    start_time=time(hour, 0),
                    end_time=time(hour, 45),
                    first_date=first,
                    last_date=first + timedelta(weeks=8),
                ),
                now=now,
            )
