"""Plain factory helpers: real rows, sensible defaults, keyword overrides."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from home.models import HomePage
from webinars.models import Enrollment, Guardianship, Lesson, Recording, Room, Subject
from webinars.services.rooms import room_ensure_for_lesson
from webinars.services.tokens import api_token_issue

_seq = itertools.count(1)
SCHOOL_ZONE = ZoneInfo("Europe/Amsterdam")  # the test settings' TIME_ZONE


def at(day: str, hhmm: str, seconds: int = 0, fold: int = 0) -> datetime:
    """A wall-clock time in the school's zone, as an aware UTC datetime."""
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(
        tzinfo=SCHOOL_ZONE, second=seconds, fold=fold
    )
    return local.astimezone(UTC)


def make_user(username: str | None = None, *, groups=(), password="pass-1234", **fields) -> User:
    username = username or f"user{next(_seq)}"
    user = User.objects.create_user(
        username=username, password=password, email=f"{username}@school.test", **fields
    )
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def make_api_token(user: User, **fields) -> str:
    """A new API token for ``user`` (``name``, ``expires_in_days``); returns its key."""
    _token, key = api_token_issue(user=user, **fields)
    return key


def make_subject(name: str | None = None, code: str | None = None) -> Subject:
    n = next(_seq)
    return Subject.objects.create(name=name or f"Subject {n}", code=code or f"S{n}")


def make_lesson(
    *,
    start: datetime | None = None,
    duration: timedelta = timedelta(minutes=45),
    subject: Subject | None = None,
    teacher: User | None = None,
    **fields,
) -> Lesson:
    start = start or timezone.now() + timedelta(hours=1)
    return Lesson.objects.create(
        subject=subject or make_subject(),
        teacher=teacher or make_user(),
        title=fields.pop("title", f"Lesson {next(_seq)}"),
        scheduled_start=start,
        scheduled_end=start + duration,
        **fields,
    )


def make_room(lesson: Lesson | None = None, **fields) -> Room:
    room, _created = room_ensure_for_lesson(lesson=lesson or make_lesson())
    if fields:
        for name, value in fields.items():
            setattr(room, name, value)
        room.save()
    return room


def enroll(student: User, subject: Subject) -> Enrollment:
    return Enrollment.objects.create(student=student, subject=subject)


def make_guardian(parent: User, child: User) -> Guardianship:
    return Guardianship.objects.create(parent=parent, child=child)


def make_recording(room: Room, **fields) -> Recording:
    return Recording.objects.create(room=room, **fields)


def home_page() -> Page:
    """The site's home page, rebuilt if another transactional test flushed the tables."""
    code = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    Locale.objects.get_or_create(language_code=code)
    home = Page.objects.filter(depth=2, slug="home").first()
    if home is None:
        root = Page.objects.filter(depth=1).first() or Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=HomePage(title="Cedar school webinars", slug="home"))
    if not Site.objects.filter(is_default_site=True).exists():
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    return home
