"""Reads behind the API's lists (docs/api.md): lessons, subjects, classes, rooms, a timetable.

Who sees what (the decision, written down in docs/api.md):

- a lesson's title, time, subject and teacher are the school's timetable: school staff
  (``roles.is_school_staff``) and teachers (the Teachers group) see every lesson; everyone else
  signed in sees the lessons they are tied to (teach, co-teach, are expected in, or a child of
  theirs is expected in: ``viewer_ties``) and the open lessons;
- rooms name the video room, so they follow ``roles.may_read_room`` exactly: school staff read
  every room; anyone else a lesson's room when they are tied to the lesson or the lesson is open,
  a meeting's when they host it or the room is open.

Every list is a queryset with its relations joined or prefetched, so a page costs the same
number of queries whatever its size (tests count them with 5 and 50 rows).
"""

from dataclasses import dataclass
from functools import lru_cache, reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from webinars import roles
from webinars.choices import STAFF_ROLE_GROUPS, RoomType
from webinars.models import (
    Enrollment,
    Guardianship,
    Lesson,
    MeetingPage,
    Room,
    SchoolClass,
    Subject,
)
from webinars.people import TEACHERS
from webinars.roles import ViewerFacts
from webinars.selectors.viewer import TIES, self_facts, viewer_ties

# What a lesson row of the API reads; everything else (descriptions, images) stays deferred.
LESSON_LIST_FIELDS = (
    "id",
    "title",
    "scheduled_start",
    "scheduled_end",
    "is_open",
    "is_cancelled",
    "subject_id",
    "teacher_id",
    "school_class_id",
    "subject__id",
    "subject__code",
    "subject__name",
    "teacher__id",
    "teacher__username",
    "teacher__first_name",
    "teacher__last_name",
    "school_class__id",
    "school_class__name",
    "room__id",
    "room__status",
    "room__type",
    "room__is_open",
    "room__public_slug",
    "room__lesson_id",
    "room__scheduled_start",
    "room__scheduled_end",
)
PERSON_FIELDS = ("id", "username", "first_name", "last_name")


@dataclass(frozen=True, slots=True)
class Lister:
    """Who is asking for a list: their facts about themselves, whether they are in Teachers,
    and the ids their ties to lessons go through (``tied_by_ids``): the classes and enrolled
    subjects of theirs and of their children, and the lessons they co-teach."""

    facts: ViewerFacts
    is_teacher: bool
    class_ids: frozenset = frozenset()
    subject_ids: frozenset = frozenset()
    co_taught_ids: frozenset = frozenset()

    @property
    def user_id(self) -> int:
        return self.facts.user_id

    @property
    def sees_every_lesson(self) -> bool:
        return roles.may_list_every_lesson(self.facts, is_teacher=self.is_teacher)


@lru_cache(maxsize=1)
def _lister_sql() -> str:
    """One statement for everything ``lister_for`` reads, a row per fact: ``(kind, name, id)``
    — ``group`` rows name the user's staff-role and Teachers groups, ``class``, ``subject`` and
    ``lesson`` rows give the ids of ``Lister``. Parameters: ``_lister_params``."""
    quote = connection.ops.quote_name
    user_groups = quote(get_user_model().groups.through._meta.db_table)
    groups = quote(Group._meta.db_table)
    class_students = quote(SchoolClass.students.through._meta.db_table)
    enrollment = quote(Enrollment._meta.db_table)
    guardianship = quote(Guardianship._meta.db_table)
    co_teachers = quote(Lesson.co_teachers.through._meta.db_table)
    names = ", ".join(["%s"] * (len(STAFF_ROLE_GROUPS) + 1))
    children = f"SELECT g.child_id FROM {guardianship} g WHERE g.parent_id = %s"  # noqa: S608
    return f"""
        SELECT 'group', gr.name, CAST(NULL AS bigint)
          FROM {user_groups} ug JOIN {groups} gr ON gr.id = ug.group_id
          WHERE ug.user_id = %s AND gr.name IN ({names})
        UNION ALL
        SELECT 'class', NULL, cs.schoolclass_id FROM {class_students} cs
          WHERE cs.user_id = %s OR cs.user_id IN ({children})
        UNION ALL
        SELECT 'subject', NULL, e.subject_id FROM {enrollment} e
          WHERE e.student_id = %s OR e.student_id IN ({children})
        UNION ALL
        SELECT 'lesson', NULL, c.lesson_id FROM {co_teachers} c WHERE c.user_id = %s
    """  # noqa: S608 - names from model metadata, values bound


def _lister_params(user_id: int) -> list:
    return [user_id, *STAFF_ROLE_GROUPS, TEACHERS, *([user_id] * 5)]


def lister_for(*, user) -> Lister:
    """The signed-in ``user`` as a lister, in one plain statement (``_lister_sql``).

    Why not the ORM: a list's own work is two or three queries, and reading who the lister
    is took five more — their facts (``viewer_facts_for``), the Teachers membership, their
    classes, subjects and co-taught lessons — whose compiling cost more than the database's
    answers: a third of a student's ``GET /api/lessons/`` (bench/bench_api_lists.py). The
    same facts in one statement built from the models' metadata; a test proves them equal to
    the ORM's for every person of a school.
    """
    with connection.cursor() as cursor:
        cursor.execute(_lister_sql(), _lister_params(user.pk))
        rows = cursor.fetchall()
    ids = {"class": set(), "subject": set(), "lesson": set()}
    group_names = set()
    for kind, name, pk in rows:
        if kind == "group":
            group_names.add(name)
        else:
            ids[kind].add(pk)
    staff_groups = sorted(group_names & set(STAFF_ROLE_GROUPS))  # the first by name, as the ORM's
    return Lister(
        facts=self_facts(user=user, staff_group=staff_groups[0] if staff_groups else None),
        is_teacher=TEACHERS in group_names,
        class_ids=frozenset(ids["class"]),
        subject_ids=frozenset(ids["subject"]),
        co_taught_ids=frozenset(ids["lesson"]),
    )


def tied_by_annotations(user_id: int) -> Q:
    """The lessons (annotated with ``viewer_ties``) the user is tied to: the plain path, which
    ``tied_by_ids`` must equal."""
    return reduce(or_, (Q(**{tie: True}) for tie in TIES), Q(teacher_id=user_id))


def tied_by_ids(lister: Lister) -> Q:
    """The lessons the lister is tied to — teaches, co-teaches, is expected in, or a child of
    theirs is (docs/roles.md) — as a filter on the lesson's own indexed columns.

    Why not ``tied_by_annotations``: ``viewer_ties`` are EXISTS subqueries correlated with each
    lesson, which PostgreSQL runs row by row, so counting a student's lessons among 100,000
    took two seconds (bench/bench_api_lists.py). The same ties through the lister's few ids
    (``lister_for`` reads them) let the database combine index scans instead, and keep the
    count to the lessons table (``lesson_counts``). A test proves both paths give the same
    lessons for every person of a school, on SQLite and PostgreSQL.
    """
    return (
        Q(teacher_id=lister.user_id)
        | Q(pk__in=lister.co_taught_ids)
        | Q(school_class_id__in=lister.class_ids)
        | Q(school_class__isnull=True, subject_id__in=lister.subject_ids)
    )


def lessons_visible(*, lister: Lister, mine: bool = False, ties: bool = False) -> QuerySet:
    """The lessons ``lister`` may see (module docstring), unordered, nothing joined (the list's
    rows are read as values: ``api.lesson_rows``).

    ``mine``: only the lessons they are tied to. ``ties``: keep the ``viewer_ties`` annotations
    on every row (the timetable turns them into facts, ``viewer_facts_from_ties``).
    """
    lessons = Lesson.objects.all()
    if ties:
        lessons = lessons.annotate(**viewer_ties(user_id=lister.user_id))
    if mine:
        return lessons.filter(tied_by_ids(lister))
    if not lister.sees_every_lesson:
        return lessons.filter(tied_by_ids(lister) | Q(is_open=True))
    return lessons


def lessons_for_lister(*, lister: Lister, mine: bool = False, ties: bool = False) -> QuerySet:
    """``lessons_visible`` as model rows for the serializers: subject, teacher, class and room
    joined, co-teachers prefetched (one query), only the columns the rows show."""
    return (
        lessons_visible(lister=lister, mine=mine, ties=ties)
        .select_related("subject", "teacher", "school_class", "room")
        .only(*LESSON_LIST_FIELDS)
        .prefetch_related(
            Prefetch(
                "co_teachers",
                queryset=Lesson.co_teachers.rel.model.objects.only(*PERSON_FIELDS).order_by(
                    "last_name", "first_name", "username"
                ),
            )
        )
    )


def lesson_for_lister(*, lister: Lister, lesson_id: int) -> Lesson | None:
    """One lesson as the list shows it, or None when it does not exist or is not theirs to see."""
    return lessons_for_lister(lister=lister).filter(pk=lesson_id).first()


def subjects_list() -> QuerySet:
    """Every subject (its name and code are public: the open-lessons page filters by them)."""
    return Subject.objects.order_by("name", "id")


def classes_list(*, with_counts: bool) -> QuerySet:
    """Every class by name; ``with_counts`` adds ``student_count`` (one grouped query)."""
    classes = SchoolClass.objects.order_by("name", "id")
    if with_counts:
        classes = classes.annotate(student_count=Count("students", distinct=True))
    return classes


def rooms_for_lister(*, lister: Lister) -> QuerySet:
    """The rooms ``lister`` may read (``roles.may_read_room``; module docstring), with their
    lesson, subject and teacher joined for ``RoomSerializer``."""
    rooms = Room.objects.select_related("lesson__subject", "lesson__teacher")
    if lister.facts.is_school_staff:
        return rooms
    user_id = lister.user_id
    readable_lessons = Lesson.objects.filter(tied_by_ids(lister) | Q(is_open=True)).values("pk")
    hosts = MeetingPage.hosts.through.objects.filter(
        meetingpage__room=OuterRef("pk"), user_id=user_id
    )
    return rooms.filter(
        Q(lesson__in=readable_lessons) | Q(type=RoomType.MEETING, is_open=True) | Exists(hosts)
    )


def children_of(*, user) -> list:
    """A parent's children (``Guardianship``), by name; one query."""
    links = (
        Guardianship.objects.filter(parent_id=user.pk)
        .select_related("child")
        .only(*(f"child__{name}" for name in PERSON_FIELDS), "child_id", "parent_id")
        .order_by("child__last_name", "child__first_name", "child__username")
    )
    return [link.child for link in links]


def classes_of(*, user) -> list[SchoolClass]:
    """The student's classes, by name; one query."""
    return list(SchoolClass.objects.filter(students=user.pk).order_by("name", "id"))
