"""Joining a room: decide the role, audit it, record attendance, mint a token.

Who gets which role is the table in ``docs/roles.md``, decided by the pure functions of
``webinars.roles`` over the viewer's facts from ``webinars.selectors.viewer``; this module does
the writes. Every decision, granted or refused, leaves a ``JoinAudit`` row with the deciding rule
and an HMAC of the caller's IP (never the IP itself).

A join is the hot path of a whole-school assembly, so the API's join costs one read (the room,
its lesson and the viewer's facts: ``room_for_joining``, handed in as ``facts``) and one write
(audit + attendance in one statement on PostgreSQL), in hand-written SQL built from the models'
metadata.
"""

import hashlib
import hmac
import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from webinars import roles
from webinars.choices import AttendanceSource, JoinRole
from webinars.models import (
    Attendance,
    JoinAudit,
    Room,
    new_public_slug,
)
from webinars.providers import JoinLink, Person
from webinars.roles import RoleDecision, Rule, ViewerFacts
from webinars.selectors.viewer import room_for_joining, signed_in_id, viewer_facts_for

logger = logging.getLogger("webinars.joins")

DISPLAY_NAME_MAX = 64
DEFAULT_GUEST_NAME = "Guest"
# Bidirectional overrides and isolates let a name display as something else ("spoofing").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class JoinRefused(Exception):
    """A refused join: the API answers ``status_code`` with ``{"detail": …}`` (+ ``opens_at``)."""

    def __init__(self, status_code: int, detail: str, rule: str, opens_at: datetime | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.rule = rule
        self.opens_at = opens_at


@dataclass(frozen=True)
class JoinResult:
    """A granted join: the platform's link (URL with its token, expiry) and the role."""

    link: JoinLink
    you_are: str
    room: Room

    @property
    def join_url(self) -> str:
        return self.link.url

    @property
    def expires_at(self) -> datetime:
        return self.link.expires_at


def ip_hash(ip: str) -> str:
    """HMAC-SHA256 of the IP keyed with SECRET_KEY: joins can be correlated, not traced back."""
    return hmac.new(settings.SECRET_KEY.encode(), (ip or "").encode(), hashlib.sha256).hexdigest()


def display_name_clean(value: str | None) -> str:
    """A guest's name: trimmed, 1–64 characters, no control characters; blank means "Guest".

    The name ends up in other people's Jitsi screens and in our admin, so invisible and
    direction-changing characters are refused rather than silently stripped.
    """
    if value is None:
        return DEFAULT_GUEST_NAME
    if not isinstance(value, str):
        raise ValidationError({"display_name": [_("Enter a name as text.")]})
    name = value.strip()
    if not name:
        return DEFAULT_GUEST_NAME
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationError(
            {"display_name": [_("Use at most %(max)d characters.") % {"max": DISPLAY_NAME_MAX}]}
        )
    for char in name:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"}:
            raise ValidationError(
                {"display_name": [_("The name may not contain control characters.")]}
            )
    return name


# --- Roles without joining ------------------------------------------------------------------


def room_role_for(*, room: Room, user, facts: ViewerFacts | None = None) -> RoleDecision:
    """The role ``user`` (or anonymous) would get through ``POST /api/rooms/{id}/join/``.

    For "your role" displays and permission checks; writes nothing. ``facts``: the viewer's
    facts when already read (``room_for_joining``), else they are read now.
    """
    return roles.decide_join(_facts_for(room=room, user=user, facts=facts))


def _facts_for(*, room: Room, user, facts: ViewerFacts | None) -> ViewerFacts:
    return viewer_facts_for(room=room, user=user) if facts is None else facts


def _window_refusal(*, room: Room, now: datetime) -> roles.WindowRefusal | None:
    return roles.decide_window(
        room_status=room.status,
        is_cancelled=bool(room.lesson_id and room.lesson.is_cancelled),
        window_start=room.window_start,
        window_end=room.window_end,
        now=now,
    )


def room_permissions_for(
    *, room: Room, user, now: datetime | None = None, facts: ViewerFacts | None = None
) -> dict:
    """``{role, permissions}`` for ``GET /api/rooms/{id}/permissions/`` (no audit)."""
    now = now or timezone.now()
    facts = _facts_for(room=room, user=user, facts=facts)
    return {
        "role": roles.decide_join(facts).role,
        "permissions": roles.permissions_for(
            facts=facts, can_enter_now=_window_refusal(room=room, now=now) is None
        ),
    }


# --- Joining --------------------------------------------------------------------------------

_REFUSAL_DETAIL = {
    Rule.LESSON_CANCELLED: "This lesson was cancelled.",
    Rule.ROOM_CLOSED: "This room is closed.",
    Rule.AFTER_WINDOW: "This room is closed.",
    Rule.BEFORE_WINDOW: "The room is not open yet.",
}
NOT_FOUND_DETAIL = "Not found."
FORBIDDEN_DETAIL = "You may not join this room."


def _audit(*, room, user, display_name: str, decision_role: str, rule: str, code: int, ip: str):
    """An unsaved JoinAudit row. Rows are written with ``bulk_create``: they are append-only
    logs, and a plain ``save()`` would run Wagtail's reference-index ``post_save`` handler,
    about ten extra queries per join for rows nobody looks up by reference."""
    return JoinAudit(
        room=room,
        user=user if signed_in_id(user) else None,
        display_name=display_name[:DISPLAY_NAME_MAX],
        granted=bool(decision_role),
        role=decision_role or "",
        rule=rule,
        status_code=code,
        ip_hash=ip,
    )


def _refuse(*, room, user, display_name, rule, code, ip_digest, opens_at=None) -> JoinRefused:
    audit = _audit(
        room=room,
        user=user,
        display_name=display_name,
        decision_role="",
        rule=rule,
        code=code,
        ip=ip_digest,
    )
    JoinAudit.objects.bulk_create([audit])
    if code == status.HTTP_404_NOT_FOUND:
        detail = NOT_FOUND_DETAIL
    elif code == status.HTTP_403_FORBIDDEN:
        detail = FORBIDDEN_DETAIL
    else:
        detail = _REFUSAL_DETAIL.get(rule, "This room cannot be joined now.")
    logger.info("join refused room=%s rule=%s status=%s", getattr(room, "pk", None), rule, code)
    return JoinRefused(code, detail, rule, opens_at=opens_at)


def _grant(
    *, room: Room, user, identity: Person, decision: RoleDecision, ip_digest: str, now
) -> JoinResult:
    link = room.provider.join_url(room=room, person=identity, role=decision.role, now=now)
    audit = _audit(
        room=room,
        user=user,
        display_name=identity.name,
        decision_role=decision.role,
        rule=decision.rule,
        code=status.HTTP_200_OK,
        ip=ip_digest,
    )
    attendance = Attendance(
        room=room,
        user=audit.user,
        display_name=identity.name[:DISPLAY_NAME_MAX],
        role=decision.role,
        joined_at=now,
        source=AttendanceSource.JOIN_API,
        ip_hash=ip_digest,
        person_id=identity.id[:64],  # what the platform echoes back when the person leaves
    )
    _save_together(audit, attendance)
    return JoinResult(link=link, you_are=decision.role, room=room)


@lru_cache(maxsize=4)
def _insert_sql(model) -> tuple[str, tuple]:
    """``INSERT`` SQL for one row of ``model`` and the fields its parameters come from."""
    quote = connection.ops.quote_name
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = quote(model._meta.db_table)
    # names from model metadata, values bound as parameters
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", fields  # noqa: S608


def _insert_statement(obj) -> tuple[str, list]:
    """``INSERT`` SQL and parameters for an unsaved row, from its model's fields."""
    sql, fields = _insert_sql(type(obj))
    return sql, [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def _save_together(audit: JoinAudit, attendance: Attendance) -> None:
    """Write a granted join's two rows atomically.

    On PostgreSQL as one statement (a data-modifying CTE): one round trip and one commit, where
    the ORM needs four (BEGIN, two INSERTs, COMMIT) — this is the hot path of a school assembly.
    Elsewhere, ``bulk_create`` in a transaction. Neither runs ``post_save`` (see ``_audit``).
    """
    if connection.vendor == "postgresql":
        audit_sql, audit_params = _insert_statement(audit)
        attendance_sql, attendance_params = _insert_statement(attendance)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH audit AS ({audit_sql}) {attendance_sql}", audit_params + attendance_params
            )
        return
    with transaction.atomic():
        JoinAudit.objects.bulk_create([audit])
        Attendance.objects.bulk_create([attendance])


def _check_window(*, room: Room, user, display_name: str, ip_digest: str, now: datetime):
    refusal = _window_refusal(room=room, now=now)
    if refusal is not None:
        raise _refuse(
            room=room,
            user=user,
            display_name=display_name,
            rule=refusal.rule,
            code=refusal.status_code,
            ip_digest=ip_digest,
            opens_at=refusal.opens_at,
        )


def room_join_user(
    *,
    room: Room,
    user,
    ip: str,
    now: datetime | None = None,
    facts: ViewerFacts | None = None,
) -> JoinResult:
    """A signed-in user's join: their role, then the room's window, then a fresh token.

    The role is decided before the window so that outsiders learn nothing about a room's state.
    ``facts``: the user's facts when read with the room (``room_for_joining``), else read now.
    """
    now = now or timezone.now()
    ip_digest = ip_hash(ip)
    name = (user.get_full_name() or user.get_username())[:DISPLAY_NAME_MAX]
    decision = roles.decide_join(_facts_for(room=room, user=user, facts=facts))
    if not decision.granted:
        raise _refuse(
            room=room,
            user=user,
            display_name=name,
            rule=decision.rule,
            code=decision.status_code,
            ip_digest=ip_digest,
        )
    _check_window(room=room, user=user, display_name=name, ip_digest=ip_digest, now=now)
    identity = Person(id=str(user.pk), name=name, email=user.email or "")
    return _grant(
        room=room, user=user, identity=identity, decision=decision, ip_digest=ip_digest, now=now
    )


def room_join_public(
    *, slug: str, display_name: str | None, ip: str, now: datetime | None = None
) -> JoinResult:
    """A guest's join through a public link: always an observer, with a synthetic id.

    An unknown, revoked or non-public slug all answer the same 404, so links cannot be probed.
    """
    now = now or timezone.now()
    name = display_name_clean(display_name)
    ip_digest = ip_hash(ip)

    def not_found(room: Room | None, rule: str) -> JoinRefused:
        return _refuse(
            room=room,
            user=None,
            display_name=name,
            rule=rule,
            code=status.HTTP_404_NOT_FOUND,
            ip_digest=ip_digest,
        )

    read = room_for_joining(public_slug=slug)
    if read is None:
        raise not_found(None, Rule.PUBLIC_LINK_UNKNOWN)
    room = read.room
    if not read.facts.room.is_public:
        raise not_found(room, Rule.PUBLIC_LINK_NOT_OPEN)
    decision = roles.decide_join(read.facts, via_public_link=True)
    if decision.role != JoinRole.OBSERVER:  # the table says observer; refuse anything else
        raise not_found(room, decision.rule)
    _check_window(room=room, user=None, display_name=name, ip_digest=ip_digest, now=now)
    identity = Person(id=f"guest-{uuid.uuid4().hex}", name=name)
    return _grant(
        room=room, user=None, identity=identity, decision=decision, ip_digest=ip_digest, now=now
    )


def room_regenerate_public_slug(*, room: Room) -> Room:
    """Revoke a room's public link: a new unguessable slug; the old one 404s at once."""
    room.public_slug = new_public_slug()
    room.save(update_fields=["public_slug", "updated_at"])
    logger.info("public link regenerated room=%s", room.pk)
    return room
