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
from functools import reduce
from operator import or_

from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from webinars import roles
from webinars.choices import RoomType
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
from webinars.selectors.viewer import TIES, viewer_facts_for, viewer_ties

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
    """Who is asking for a list: their facts about themselves, and whether they see every
    lesson (``roles.may_list_every_lesson``; the Teachers membership is read only when the
    facts alone do not decide it)."""

    facts: ViewerFacts
    is_teacher: bool

    @property
    def user_id(self) -> int:
        return self.facts.user_id

    @property
    def sees_every_lesson(self) -> bool:
        return roles.may_list_every_lesson(self.facts, is_teacher=self.is_teacher)


def lister_for(*, user) -> Lister:
    """The signed-in ``user`` as a lister: their facts (one query) and, unless they are school
    staff, whether they are in Teachers (one more)."""
    facts = viewer_facts_for(user=user)
    if roles.may_list_every_lesson(facts, is_teacher=False):
        return Lister(facts=facts, is_teacher=False)
    is_teacher = Group.objects.filter(user=user.pk, name=TEACHERS).exists()
    return Lister(facts=facts, is_teacher=is_teacher)


def tied_by_annotations(user_id: int) -> Q:
    """The lessons (annotated with ``viewer_ties``) the user is tied to: the plain path, which
    ``tied_by_ids`` must equal."""
    return reduce(or_, (Q(**{tie: True}) for tie in TIES), Q(teacher_id=user_id))


def tied_by_ids(user_id: int) -> Q:
    """The lessons the user is tied to — teaches, co-teaches, is expected in, or a child of
    theirs is (docs/roles.md) — as a filter on the lesson's own indexed columns.

    Why not ``tied_by_annotations``: ``viewer_ties`` are EXISTS subqueries correlated with each
    lesson, which PostgreSQL runs row by row, so counting a student's lessons among 100,000
    took two seconds (bench/bench_api_lists.py). The same ties read first as the user's few
    ids (their and their children's classes and enrolled subjects, the lessons they co-teach:
    three small queries) let the database combine index scans instead. A test proves both
    paths give the same lessons for every person of a school, on SQLite and PostgreSQL.
    """
    students = SchoolClass.students.through.objects
    ours = Q(user_id=user_id) | Q(user__guardians__parent_id=user_id)
    class_ids = set(students.filter(ours).values_list("schoolclass_id", flat=True))
    enrolled = Q(student_id=user_id) | Q(student__guardians__parent_id=user_id)
    subject_ids = set(Enrollment.objects.filter(enrolled).values_list("subject_id", flat=True))
    co_taught = set(
        Lesson.co_teachers.through.objects.filter(user_id=user_id).values_list(
            "lesson_id", flat=True
        )
    )
    return (
        Q(teacher_id=user_id)
        | Q(pk__in=co_taught)
        | Q(school_class_id__in=class_ids)
        | Q(school_class__isnull=True, subject_id__in=subject_ids)
    )


def lessons_for_lister(*, lister: Lister, mine: bool = False, ties: bool = False) -> QuerySet:
    """The lessons ``lister`` may see (module docstring), as API rows: subject, teacher, class
    and room joined, co-teachers prefetched (one query), only the columns the rows show.

    ``mine``: only the lessons they are tied to. ``ties``: keep the ``viewer_ties`` annotations
    on every row (the timetable turns them into facts, ``viewer_facts_from_ties``).
    """
    lessons = Lesson.objects.all()
    if ties:
        lessons = lessons.annotate(**viewer_ties(user_id=lister.user_id))
    if mine:
        lessons = lessons.filter(tied_by_ids(lister.user_id))
    elif not lister.sees_every_lesson:
        lessons = lessons.filter(tied_by_ids(lister.user_id) | Q(is_open=True))
    return (
        lessons.select_related("subject", "teacher", "school_class", "room")
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
    readable_lessons = Lesson.objects.filter(tied_by_ids(user_id) | Q(is_open=True)).values("pk")
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
