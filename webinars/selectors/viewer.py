"""Who a viewer is to a room: the facts the role table reads (``webinars.roles.ViewerFacts``).

The one owner of those facts, with two implementations that must agree (a test compares them
for every user and room of the demo school):

- ``viewer_facts_for``: the plain ORM, for callers that hold a room or a lesson (HTML views,
  room metadata, calendars, the register, recordings): one query for a signed-in viewer, plus
  the page of a meeting. ``viewer_ties`` are its subqueries, for lists of lessons ("My lessons").
- ``room_for_joining`` / ``token_and_room_for_joining``: the join's hot path. The room, its
  lesson, its meeting page's flag and the viewer's facts (with a Bearer token also the
  ``ApiToken``, found by its key's digest, and its user) come in one plain statement built
  from the models' metadata and turned into models directly. They answer a ``JoinRead``: the
  room and the facts side by side.

``meeting_page_for`` is the one lookup of a meeting room's page.
"""

from dataclasses import dataclass, replace
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Subquery

from webinars.choices import STAFF_ROLE_GROUPS, RoomType
from webinars.models import (
    ApiToken,
    Enrollment,
    Guardianship,
    Lesson,
    MeetingPage,
    Room,
    SchoolClass,
)
from webinars.models_tokens import token_digest
from webinars.roles import RoomFacts, ViewerFacts


@dataclass(frozen=True, slots=True)
class JoinRead:
    """A room as a join reads it (its lesson attached) and the viewer's facts for it."""

    room: Room
    facts: ViewerFacts


def signed_in_id(user) -> int | None:
    """The user's id, or None for anonymous callers."""
    return user.pk if user is not None and user.is_authenticated else None


def meeting_page_for(*, room: Room) -> MeetingPage | None:
    """The meeting page a room belongs to, or None (a lesson's room, or the page was deleted)."""
    try:
        return room.meeting_page
    except ObjectDoesNotExist:
        return None


def _room_facts(*, room: Room | None, lesson: Lesson | None, page_is_open: bool | None):
    """``room``'s facts; with no room, those of the room ``lesson`` would be given (open as the
    lesson is, see ``services.rooms``)."""
    if room is None:
        return RoomFacts(
            is_meeting=False, room_is_open=lesson.is_open, lesson_is_open=lesson.is_open
        )
    return RoomFacts(
        is_meeting=room.type == RoomType.MEETING,
        room_is_open=room.is_open,
        lesson_is_open=bool(lesson is not None and lesson.is_open),
        page_is_open=page_is_open,
    )


def room_facts_for(*, room: Room) -> RoomFacts:
    """The room's own facts (is it public, are its recordings); a meeting's page is one query."""
    page = meeting_page_for(room=room) if room.type == RoomType.MEETING else None
    return _room_facts(
        room=room,
        lesson=room.lesson if room.lesson_id else None,
        page_is_open=None if page is None else page.is_open,
    )


def _facts(
    *, user, room: RoomFacts | None, lesson: Lesson | None, staff_group, ties
) -> ViewerFacts:
    """The facts of signed-in ``user``; ``ties``: co-teacher, enrolled, parent of enrolled and
    meeting host, in that order (truthy values: databases answer 0/1)."""
    co_teacher, enrolled, parent, host = ties
    return ViewerFacts(
        room=room,
        user_id=user.pk,
        is_staff=user.is_staff,
        is_superuser=user.is_superuser,
        staff_group=staff_group,
        is_teacher=lesson is not None and lesson.teacher_id == user.pk,
        is_co_teacher=bool(co_teacher),
        is_enrolled=bool(enrolled),
        is_parent_of_enrolled=bool(parent),
        is_meeting_host=bool(host),
    )


def self_facts(*, user, staff_group: str | None) -> ViewerFacts:
    """The facts of signed-in ``user`` about themselves (no room), their staff group read
    elsewhere (``selectors.lessons.lister_for`` reads it in its own statement)."""
    return _facts(user=user, room=None, lesson=None, staff_group=staff_group, ties=(None,) * 4)


# --- The plain-ORM path ---------------------------------------------------------------------

TIES = ("viewer_is_co_teacher", "viewer_is_enrolled", "viewer_is_parent_of_enrolled")


def viewer_ties(*, user_id: int) -> dict[str, Exists]:
    """The viewer's ties to each lesson of a ``Lesson`` queryset, as annotations (``TIES``)."""
    return {
        "viewer_is_co_teacher": Exists(
            Lesson.co_teachers.through.objects.filter(lesson_id=OuterRef("pk"), user_id=user_id)
        ),
        "viewer_is_enrolled": _expected(
            class_students=SchoolClass.students.through.objects.filter(user_id=user_id),
            enrolled=Enrollment.objects.filter(student_id=user_id),
        ),
        "viewer_is_parent_of_enrolled": _expected(
            class_students=SchoolClass.students.through.objects.filter(
                user__guardians__parent_id=user_id
            ),
            enrolled=Enrollment.objects.filter(student__guardians__parent_id=user_id),
        ),
    }


def _expected(*, class_students, enrolled) -> ExpressionWrapper:
    """Whether the lesson expects these students: its class's, or (no class) the subject's
    enrolled ones (docs/roles.md)."""
    in_class = Exists(class_students.filter(schoolclass_id=OuterRef("school_class_id")))
    in_subject = Exists(enrolled.filter(subject_id=OuterRef("subject_id")))
    return ExpressionWrapper(
        (Q(school_class__isnull=False) & in_class) | (Q(school_class__isnull=True) & in_subject),
        output_field=BooleanField(),
    )


def _staff_group(user_id: int) -> Subquery:
    groups = Group.objects.filter(user=user_id, name__in=STAFF_ROLE_GROUPS).order_by("name")
    return Subquery(groups.values("name")[:1])


def viewer_facts_for(
    *, user, room: Room | None = None, lesson: Lesson | None = None
) -> ViewerFacts:
    """``user``'s facts (None or AnonymousUser: anonymous) for ``room``; for ``lesson`` when it
    has no room yet; with neither, about the user alone (``facts.room`` None).

    One query for a signed-in user (plus the page of a meeting room); anonymous costs none.
    """
    if room is not None and room.lesson_id is not None:
        lesson = room.lesson
    page = (
        meeting_page_for(room=room) if room is not None and room.type == RoomType.MEETING else None
    )
    room_facts = None
    if room is not None or lesson is not None:
        page_is_open = None if page is None else page.is_open
        room_facts = _room_facts(room=room, lesson=lesson, page_is_open=page_is_open)
    user_id = signed_in_id(user)
    if user_id is None:
        return ViewerFacts(room=room_facts)
    asked = {"staff_group": _staff_group(user_id)}
    if page is not None:
        hosts = MeetingPage.hosts.through.objects.filter(meetingpage_id=page.pk, user_id=user_id)
        asked["is_meeting_host"] = Exists(hosts)
    if lesson is not None:
        rows = Lesson.objects.filter(pk=lesson.pk)
        asked.update(viewer_ties(user_id=user_id))
    else:
        rows = get_user_model().objects.filter(pk=user_id)
    row = rows.values(**asked).first() or {}
    ties = [row.get(name) for name in (*TIES, "is_meeting_host")]
    return _facts(
        user=user, room=room_facts, lesson=lesson, staff_group=row.get("staff_group"), ties=ties
    )


def viewer_facts_from_ties(*, viewer: ViewerFacts, lesson: Lesson) -> ViewerFacts:
    """The facts for a lesson read with ``viewer_ties`` (its ``room`` selected) of the viewer
    whose facts alone are ``viewer`` (``viewer_facts_for(user=…)``)."""
    try:
        room = lesson.room
    except ObjectDoesNotExist:
        room = None
    co_teacher, enrolled, parent = (getattr(lesson, name) for name in TIES)
    return replace(
        viewer,
        room=_room_facts(room=room, lesson=lesson, page_is_open=None),
        is_teacher=lesson.teacher_id == viewer.user_id,
        is_co_teacher=bool(co_teacher),
        is_enrolled=bool(enrolled),
        is_parent_of_enrolled=bool(parent),
    )


# --- The join's hot path: one plain statement -----------------------------------------------

# What a join reads of a room and its lesson (field names); everything else stays deferred.
JOIN_ROOM_FIELDS = (
    "id",
    "type",
    "status",
    "lesson",
    "jitsi_domain",
    "jitsi_room",
    "jitsi_env",
    "is_open",
    "public_slug",
    "scheduled_start",
    "scheduled_end",
)
JOIN_LESSON_FIELDS = ("id", "teacher", "subject", "is_open", "is_cancelled")


@lru_cache(maxsize=8)
def _loaded_fields(model, names: tuple) -> tuple:
    """``names``' fields in the model's order, the order ``Model.from_db`` consumes values in."""
    return tuple(field for field in model._meta.concrete_fields if field.name in names)


@lru_cache(maxsize=64)
def _row_converters(db, model, fields: tuple) -> tuple:
    """``(position, column, converters)`` for the values the ORM would convert on ``db``."""
    found = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
        if converters:
            found.append((position, column, tuple(converters)))
    return tuple(found)


def _instance(db, model, fields: tuple, values):
    """A model instance from one row of ``fields``' columns, converted as the ORM converts them
    (SQLite hands back dates as text); the fields not loaded stay deferred."""
    values = list(values)
    for position, column, converters in _row_converters(db, model, fields):
        for convert in converters:
            values[position] = convert(values[position], column, db)
    return model.from_db(db.alias, [field.attname for field in fields], values)


def _room_columns() -> list[str]:
    """The room's and lesson's fields, then whether a meeting page exists and its flag."""
    quote = connection.ops.quote_name
    columns = [f"r.{quote(field.column)}" for field in _loaded_fields(Room, JOIN_ROOM_FIELDS)]
    columns += [f"l.{quote(field.column)}" for field in _loaded_fields(Lesson, JOIN_LESSON_FIELDS)]
    return [*columns, f"mp.{quote(MeetingPage._meta.pk.column)}", "mp.is_open"]


def _room_joins() -> str:
    quote = connection.ops.quote_name
    return (
        f"LEFT JOIN {quote(Lesson._meta.db_table)} l ON l.id = r.lesson_id "
        f"LEFT JOIN {quote(MeetingPage._meta.db_table)} mp ON mp.room_id = r.id"
    )


@lru_cache(maxsize=4)
def _room_for_joining_sql(key: str, with_viewer: bool) -> str:
    quote = connection.ops.quote_name
    viewer = f", {_viewer_facts_sql()}" if with_viewer else ""
    return (
        f"SELECT {', '.join(_room_columns())}{viewer} "  # noqa: S608 - names from model metadata
        f"FROM {quote(Room._meta.db_table)} r {_room_joins()} "
        f"WHERE r.{quote(Room._meta.get_field(key).column)} = %s"
    )


def _join_read(db, row, viewer) -> JoinRead | None:
    """The room (None if the row has none), its lesson and ``viewer``'s facts from ``row``."""
    room_fields = _loaded_fields(Room, JOIN_ROOM_FIELDS)
    lesson_fields = _loaded_fields(Lesson, JOIN_LESSON_FIELDS)
    if row[0] is None:
        return None
    room = _instance(db, Room, room_fields, row[: len(room_fields)])
    rest = row[len(room_fields) :]
    lesson = None
    if room.lesson_id is not None:
        lesson = room.lesson = _instance(db, Lesson, lesson_fields, rest[: len(lesson_fields)])
    page_pk, page_is_open, *viewer_row = rest[len(lesson_fields) :]
    room_facts = _room_facts(
        room=room, lesson=lesson, page_is_open=None if page_pk is None else bool(page_is_open)
    )
    if signed_in_id(viewer) is None:
        return JoinRead(room=room, facts=ViewerFacts(room=room_facts))
    *ties, staff_group = viewer_row
    facts = _facts(user=viewer, room=room_facts, lesson=lesson, staff_group=staff_group, ties=ties)
    return JoinRead(room=room, facts=facts)


def _storable_id(db, pk: int) -> int | None:
    """``pk`` if the id column can hold it, else None (matches no row): URLs take any integer."""
    low, high = db.ops.integer_field_range(Room._meta.pk.get_internal_type())
    return pk if (low is None or pk >= low) and (high is None or pk <= high) else None


def room_for_joining(
    *, pk: int | None = None, public_slug: str | None = None, viewer=None
) -> JoinRead | None:
    """A room and its lesson, by id or public slug, with only what a join needs loaded, and
    the facts of ``viewer`` (a user, or None/anonymous) for it.

    The join is the hot path of a school assembly: one plain statement, turned into models
    directly (a third of the ORM's ``select_related().get()`` to build, and RawQuerySet's
    column mapping cost more than the query). Fields not loaded are deferred (fetched on use).
    """
    db = connections[DEFAULT_DB_ALIAS]
    key, value = ("id", pk) if pk is not None else ("public_slug", public_slug)
    if key == "id" and _storable_id(db, pk) is None:
        return None
    viewer_id = signed_in_id(viewer)
    params = [*(_viewer_facts_params(viewer_id) if viewer_id else ()), value]
    with db.cursor() as cursor:
        cursor.execute(_room_for_joining_sql(key, bool(viewer_id)), params)
        row = cursor.fetchone()
    return None if row is None else _join_read(db, row, viewer)


@lru_cache(maxsize=1)
def _token_and_room_sql() -> str:
    quote = connection.ops.quote_name
    user_model = get_user_model()
    columns = [f"t.{quote(field.column)}" for field in ApiToken._meta.concrete_fields]
    columns += [f"u.{quote(field.column)}" for field in user_model._meta.concrete_fields]
    columns += _room_columns()
    return (
        f"SELECT {', '.join(columns)}, {_viewer_facts_sql('t.user_id')} "  # noqa: S608 - names
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u "
        f"ON u.{quote(user_model._meta.pk.column)} = t.user_id "
        f"LEFT JOIN {quote(Room._meta.db_table)} r ON r.id = %s {_room_joins()} "
        f"WHERE t.{quote(ApiToken._meta.get_field('digest').column)} = %s"
    )


def token_and_room_for_joining(*, key: str, pk: int) -> tuple[ApiToken, JoinRead | None] | None:
    """An API token with its user, and room ``pk`` as ``room_for_joining`` reads it for them.

    For Bearer-authenticated joins: what token authentication (``selectors.tokens``) and the
    join read would fetch in two statements, in one. The token is found by its key's digest,
    as ``api_token_for_key`` finds it, and read whole (its expiry too: the caller decides).
    None when no token has ``key``; ``(token, None)`` when no room has ``pk``. The token's
    user is loaded whole, as token authentication loads it.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        params = [*_viewer_facts_params(None), _storable_id(db, pk), token_digest(key)]
        cursor.execute(_token_and_room_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    token_fields = tuple(ApiToken._meta.concrete_fields)
    user_fields = tuple(get_user_model()._meta.concrete_fields)
    token = _instance(db, ApiToken, token_fields, row[: len(token_fields)])
    rest = row[len(token_fields) :]
    token.user = _instance(db, get_user_model(), user_fields, rest[: len(user_fields)])
    return token, _join_read(db, rest[len(user_fields) :], token.user)


@lru_cache(maxsize=2)
def _viewer_facts_sql(viewer: str = "%s") -> str:
    """The select list of a viewer's facts about room ``r`` (lesson ``l``, meeting page ``mp``):
    ``viewer`` is the SQL of the viewer's id: a parameter (then params: user id ×7, groups) or
    a column (params: groups). The order is ``_facts``' ties, then the staff group.

    Every signed-in join needs them; the ORM took longer to compile these subqueries than the
    database took to answer them, so they are plain SQL (values bound, never interpolated).
    """
    quote = connection.ops.quote_name
    co_teachers = quote(Lesson.co_teachers.through._meta.db_table)
    enrollment = quote(Enrollment._meta.db_table)
    class_students = quote(SchoolClass.students.through._meta.db_table)
    guardianship = quote(Guardianship._meta.db_table)
    hosts = quote(MeetingPage.hosts.through._meta.db_table)
    page_pk = quote(MeetingPage._meta.pk.column)
    user_groups = quote(get_user_model().groups.through._meta.db_table)
    groups = quote(Group._meta.db_table)
    names = ", ".join(["%s"] * len(STAFF_ROLE_GROUPS))
    return f"""
        EXISTS (
          SELECT 1 FROM {co_teachers} c WHERE c.lesson_id = l.id AND c.user_id = {viewer}
        ) AS is_co_teacher,
        (
          EXISTS (
            SELECT 1 FROM {enrollment} e
            WHERE l.school_class_id IS NULL
              AND e.subject_id = l.subject_id AND e.student_id = {viewer}
          ) OR EXISTS (
            SELECT 1 FROM {class_students} cs
            WHERE cs.schoolclass_id = l.school_class_id AND cs.user_id = {viewer}
          )
        ) AS is_enrolled,
        (
          EXISTS (
            SELECT 1 FROM {guardianship} g JOIN {enrollment} e ON e.student_id = g.child_id
            WHERE l.school_class_id IS NULL
              AND g.parent_id = {viewer} AND e.subject_id = l.subject_id
          ) OR EXISTS (
            SELECT 1 FROM {guardianship} g JOIN {class_students} cs ON cs.user_id = g.child_id
            WHERE g.parent_id = {viewer} AND cs.schoolclass_id = l.school_class_id
          )
        ) AS is_parent_of_enrolled,
        EXISTS (
          SELECT 1 FROM {hosts} h WHERE h.meetingpage_id = mp.{page_pk} AND h.user_id = {viewer}
        ) AS is_meeting_host,
        (
          SELECT gr.name FROM {user_groups} ug JOIN {groups} gr ON gr.id = ug.group_id
          WHERE ug.user_id = {viewer} AND gr.name IN ({names}) ORDER BY gr.name LIMIT 1
        ) AS staff_group
    """  # noqa: S608 - names from model metadata


def _viewer_facts_params(user_id: int | None) -> list:
    """Parameters of ``_viewer_facts_sql``: the id seven times when bound, then the groups."""
    return [*([user_id] * 7 if user_id is not None else []), *STAFF_ROLE_GROUPS]
