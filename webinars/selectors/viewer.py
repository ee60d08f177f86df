"""What a join reads: a room, its lesson and the viewer's facts for the role table.

The API's join reads all three in one plain statement (``room_for_joining``) built from the
models' metadata and turned into models directly; with a Bearer token the same statement also
reads the token and its user (``token_and_room_for_joining``). Callers that already hold a
``Room`` (the HTML views) get the same facts with one more small query (``viewer_facts``).
"""

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connection, connections
from rest_framework.authtoken.models import Token

from webinars.choices import STAFF_ROLE_GROUPS
from webinars.models import Enrollment, Guardianship, Lesson, Room


def signed_in_id(user) -> int | None:
    """The user's id, or None for anonymous callers."""
    return user.pk if user is not None and user.is_authenticated else None


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
    quote = connection.ops.quote_name
    columns = [f"r.{quote(field.column)}" for field in _loaded_fields(Room, JOIN_ROOM_FIELDS)]
    columns += [f"l.{quote(field.column)}" for field in _loaded_fields(Lesson, JOIN_LESSON_FIELDS)]
    return columns


def _room_joins() -> str:
    quote = connection.ops.quote_name
    return f"LEFT JOIN {quote(Lesson._meta.db_table)} l ON l.id = r.lesson_id"


@lru_cache(maxsize=4)
def _room_for_joining_sql(key: str, with_viewer: bool) -> str:
    quote = connection.ops.quote_name
    viewer = f", {_viewer_facts_sql()}" if with_viewer else ""
    return (
        f"SELECT {', '.join(_room_columns())}{viewer} "  # noqa: S608 - names from model metadata
        f"FROM {quote(Room._meta.db_table)} r {_room_joins()} "
        f"WHERE r.{quote(Room._meta.get_field(key).column)} = %s"
    )


def _room_from_row(db, row, viewer_id: int | None) -> Room | None:
    """The room (None if the row has none), its lesson and the viewer's facts from ``row``."""
    room_fields = _loaded_fields(Room, JOIN_ROOM_FIELDS)
    lesson_fields = _loaded_fields(Lesson, JOIN_LESSON_FIELDS)
    if row[0] is None:
        return None
    room = _instance(db, Room, room_fields, row[: len(room_fields)])
    lesson_row = row[len(room_fields) :]
    if room.lesson_id is not None:
        room.lesson = _instance(db, Lesson, lesson_fields, lesson_row[: len(lesson_fields)])
        if viewer_id:
            room._join_viewer_facts = (viewer_id, _facts(lesson_row[len(lesson_fields) :]))
    return room


def _storable_id(db, pk: int) -> int | None:
    """``pk`` if the id column can hold it, else None (matches no row): URLs take any integer."""
    low, high = db.ops.integer_field_range(Room._meta.pk.get_internal_type())
    return pk if (low is None or pk >= low) and (high is None or pk <= high) else None


def room_for_joining(
    *, pk: int | None = None, public_slug: str | None = None, viewer=None
) -> Room | None:
    """A room and its lesson, by id or public slug, with only what a join needs loaded.

    The join is the hot path of a school assembly: one plain statement, turned into models
    directly (a third of the ORM's ``select_related().get()`` to build, and RawQuerySet's
    column mapping cost more than the query). With ``viewer`` (a signed-in user) it also
    brings the viewer's facts for the role table, saving the join a second query. Fields not
    loaded are deferred (fetched on use).
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
    return None if row is None else _room_from_row(db, row, viewer_id)


@lru_cache(maxsize=1)
def _token_and_room_sql() -> str:
    quote = connection.ops.quote_name
    user_model = get_user_model()
    columns = [f"t.{quote(field.column)}" for field in Token._meta.concrete_fields]
    columns += [f"u.{quote(field.column)}" for field in user_model._meta.concrete_fields]
    columns += _room_columns()
    return (
        f"SELECT {', '.join(columns)}, {_viewer_facts_sql('t.user_id')} "  # noqa: S608 - names
        f"FROM {quote(Token._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u "
        f"ON u.{quote(user_model._meta.pk.column)} = t.user_id "
        f"LEFT JOIN {quote(Room._meta.db_table)} r ON r.id = %s {_room_joins()} "
        "WHERE t.key = %s"
    )


def token_and_room_for_joining(*, key: str, pk: int) -> tuple[Token, Room | None] | None:
    """An API token with its user, and room ``pk`` as ``room_for_joining`` loads it for them.

    For Bearer-authenticated joins: what token authentication and the join read would fetch in
    two statements, in one. None when no token has ``key``; ``(token, None)`` when no room
    has ``pk``. The token's user is loaded whole, as token authentication loads it.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        params = [*_viewer_facts_params(None), _storable_id(db, pk), key]
        cursor.execute(_token_and_room_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    token_fields = tuple(Token._meta.concrete_fields)
    user_fields = tuple(get_user_model()._meta.concrete_fields)
    token = _instance(db, Token, token_fields, row[: len(token_fields)])
    rest = row[len(token_fields) :]
    token.user = _instance(db, get_user_model(), user_fields, rest[: len(user_fields)])
    return token, _room_from_row(db, rest[len(user_fields) :], token.user_id)


@lru_cache(maxsize=2)
def _viewer_facts_sql(viewer: str = "%s") -> str:
    """The select list of a viewer's facts about lesson ``l``; ``viewer`` is the SQL of the
    viewer's id: a parameter (then params: user id ×4, groups) or a column (params: groups).

    Every signed-in join needs them; the ORM took longer to compile these four subqueries than
    the database took to answer them, so they are plain SQL (values bound, never interpolated).
    """
    quote = connection.ops.quote_name
    co_teachers = quote(Lesson.co_teachers.through._meta.db_table)
    enrollment = quote(Enrollment._meta.db_table)
    guardianship = quote(Guardianship._meta.db_table)
    user_groups = quote(get_user_model().groups.through._meta.db_table)
    groups = quote(Group._meta.db_table)
    names = ", ".join(["%s"] * len(STAFF_ROLE_GROUPS))
    return f"""
        EXISTS (
          SELECT 1 FROM {co_teachers} c WHERE c.lesson_id = l.id AND c.user_id = {viewer}
        ) AS is_co_teacher,
        EXISTS (
          SELECT 1 FROM {enrollment} e
          WHERE e.subject_id = l.subject_id AND e.student_id = {viewer}
        ) AS is_enrolled,
        EXISTS (
          SELECT 1 FROM {guardianship} g JOIN {enrollment} e ON e.student_id = g.child_id
          WHERE g.parent_id = {viewer} AND e.subject_id = l.subject_id
        ) AS is_parent_of_enrolled,
        (
          SELECT gr.name FROM {user_groups} ug JOIN {groups} gr ON gr.id = ug.group_id
          WHERE ug.user_id = {viewer} AND gr.name IN ({names}) ORDER BY gr.name LIMIT 1
        ) AS staff_group
    """  # noqa: S608 - names from model metadata


def _viewer_facts_params(user_id: int | None) -> list:
    """Parameters of ``_viewer_facts_sql``: the id four times when bound, then the groups."""
    return [*([user_id] * 4 if user_id is not None else []), *STAFF_ROLE_GROUPS]


def _facts(values) -> dict:
    co_teacher, enrolled, parent, staff_group = values
    return {
        "is_co_teacher": bool(co_teacher),
        "is_enrolled": bool(enrolled),
        "is_parent_of_enrolled": bool(parent),
        "staff_group": staff_group,
    }


def _lesson_flags(*, lesson: Lesson, user) -> dict:
    """Co-teacher, enrolled, parent-of-enrolled and a staff group of ``user``, in one query."""
    table = connection.ops.quote_name(Lesson._meta.db_table)
    sql = f"SELECT {_viewer_facts_sql()} FROM {table} l WHERE l.id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_viewer_facts_params(user.pk), lesson.pk])
        return _facts(cursor.fetchone())


def viewer_facts(*, room: Room, user) -> dict:
    """Co-teacher, enrolled, parent-of-enrolled and staff group of ``user`` for the room's
    lesson: those ``room_for_joining`` brought along, else one query."""
    preloaded = getattr(room, "_join_viewer_facts", None)
    if preloaded is not None and preloaded[0] == user.pk:
        return preloaded[1]
    return _lesson_flags(lesson=room.lesson, user=user)
