"""The lessons list's rows read as values: ``GET /api/lessons/``'s one trick (see
``lesson_rows``), proved equal to ``LessonRowSerializer`` by tests/webinars/test_lesson_rows.py."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse

from webinars.models import Lesson
from webinars.selectors.lesson_counts import lessons_count

# What ``lesson_rows`` reads of each lesson: the columns ``LessonRowSerializer`` shows.
LESSON_ROW_COLUMNS = (
    "id",
    "title",
    "subject__id",
    "subject__name",
    "subject__code",
    "school_class__id",
    "school_class__name",
    "teacher__id",
    "teacher__username",
    "teacher__first_name",
    "teacher__last_name",
    "scheduled_start",
    "scheduled_end",
    "is_open",
    "is_cancelled",
    "room__id",
    "room__status",
    "room__is_open",
    "room__public_slug",
)


def _name(username: str, first_name: str, last_name: str) -> str:
    """``serializers.person_name`` of a user read as values: ``get_full_name()`` (first and
    last, stripped) or else the username."""
    return f"{first_name} {last_name}".strip() or username


class _LessonRows:
    """``lessons`` for the paginator: counted as they are (``lessons_count``: without the
    columns' joins, kept under the lessons' stamp), sliced as ``LESSON_ROW_COLUMNS`` tuples."""

    def __init__(self, lessons):
        self.lessons = lessons
        self.ordered = lessons.ordered

    def count(self) -> int:
        return lessons_count(self.lessons)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        rows = self.lessons.values_list(*LESSON_ROW_COLUMNS, _co_taught())
        return list(rows[index])


def _co_taught() -> Exists:
    """Whether a lesson has co-teachers: their query is asked only for the page's lessons that
    do (most lessons have none, and the query cost as much as the page's own)."""
    links = Lesson.co_teachers.through.objects.filter(lesson_id=OuterRef("pk"))
    return Exists(links)


def lesson_rows(lessons, *, paginate, zone: ZoneInfo) -> list[dict]:
    """The page ``paginate`` picks of ``lessons`` (a ``lessons_visible`` queryset, ordered),
    each row exactly as ``LessonRowSerializer`` renders it with times in ``zone``.

    Why not the serializer: ``GET /api/lessons/`` is the list a school's apps page through,
    and on 50 rows building 250 model instances (lesson, subject, teacher, class, room), the
    co-teachers' prefetch machinery and 600 serializer fields took 16–25 ms in-process where
    the page's two queries take 2 ms (bench/bench_api_lists.py's database). Here the same
    columns come as tuples (``values_list``: the same joins, filters and ordering; the count
    is the lessons' own, without the joins: ``lesson_counts``), the co-teachers of the page's
    lessons that have any in one query ordered as the prefetch orders them (none when no
    lesson on the page has co-teachers), and the rows are shaped once. A test compares both
    paths row by row, on SQLite and PostgreSQL.
    """
    page = paginate(_LessonRows(lessons))
    co_teachers: dict[int, list[dict]] = {}
    co_taught = [row[0] for row in page if row[-1]]
    if co_taught:
        links = (
            Lesson.co_teachers.through.objects.filter(lesson_id__in=co_taught)
            .order_by("user__last_name", "user__first_name", "user__username")
            .values_list(
                "lesson_id", "user__id", "user__username", "user__first_name", "user__last_name"
            )
        )
        for lesson_id, user_id, username, first, last in links:
            co_teachers.setdefault(lesson_id, []).append(
                {"id": user_id, "name": _name(username, first, last)}
            )
    base_url = settings.PORTAL_BASE_URL.rstrip("/")
    rows = []
    for (
        lesson_id,
        title,
        subject_id,
        subject_name,
        subject_code,
        class_id,
        class_name,
        teacher_id,
        username,
        first_name,
        last_name,
        start,
        end,
        is_open,
        is_cancelled,
        room_id,
        room_status,
        room_is_open,
        room_slug,
        _has_co_teachers,
    ) in page:
        public = room_id is not None and is_open and room_is_open and room_slug
        rows.append(
            {
                "id": lesson_id,
                "title": title,
                "subject": {"id": subject_id, "name": subject_name, "code": subject_code},
                "class": None if class_id is None else {"id": class_id, "name": class_name},
                "teacher": {"id": teacher_id, "name": _name(username, first_name, last_name)},
                "co_teachers": co_teachers.get(lesson_id, []),
                "scheduled_start": start.astimezone(zone).isoformat(),
                "scheduled_end": end.astimezone(zone).isoformat(),
                "is_open": is_open,
                "is_cancelled": is_cancelled,
                "room": None if room_id is None else {"id": room_id, "status": room_status},
                "public_join_url": (
                    f"{base_url}{reverse('webinars:join', kwargs={'slug': room_slug})}"
                    if public
                    else None
                ),
            }
        )
    return rows
