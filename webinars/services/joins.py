"""Joining a room (SPEC §4, §5): decide the role, audit it, record attendance, mint a token.

The decision itself is the pure table in ``webinars.roles``; this module gathers its facts and
does the writes. Every decision, granted or refused, leaves a ``JoinAudit`` row with the deciding
rule and an HMAC of the caller's IP (never the IP itself).

A join is the hot path of a whole-school assembly, so the API's join costs one read (the room,
its lesson and the viewer's facts: ``join_reads.room_for_joining``) and one write (audit +
attendance in one statement on PostgreSQL), in hand-written SQL built from the models' metadata.
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
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from webinars import roles
from webinars.choices import STAFF_ROLE_GROUPS, AttendanceSource, JoinRole, RoomType
from webinars.models import (
    Attendance,
    JoinAudit,
    Room,
    new_public_slug,
)
from webinars.providers import JoinLink, Person
from webinars.roles import RoleDecision, Rule
from webinars.selectors.viewer import room_for_joining, signed_in_id, viewer_facts

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


# --- Facts for the role table ---------------------------------------------------------------


def _meeting_page(room: Room):
    try:
        return room.meeting_page
    except ObjectDoesNotExist:
        return None


def room_is_public(*, room: Room) -> bool:
    """Open to anyone with the link: the room *and* its lesson or meeting page must say so.

    Requiring both means a lesson unticked as open is closed at once, even before its room is
    synchronised.
    """
    if not room.is_open:
        return False
    if room.type == RoomType.LESSON:
        return bool(room.lesson_id and room.lesson.is_open)
    page = _meeting_page(room)
    return page is None or page.is_open


def _staff_group_names(user) -> set[str]:
    return set(user.groups.filter(name__in=STAFF_ROLE_GROUPS).values_list("name", flat=True))


def _decide(*, room: Room, user, via_public_link: bool) -> RoleDecision:
    user_id = signed_in_id(user)
    public = room_is_public(room=room)
    staff = False
    if room.type == RoomType.LESSON:
        lesson = room.lesson
        flags = {}
        if user_id is not None and user_id != lesson.teacher_id:
            flags = viewer_facts(room=room, user=user)
            staff = roles.is_school_staff(
                is_staff=user.is_staff,
                is_superuser=user.is_superuser,
                group_names={flags["staff_group"]} if flags.get("staff_group") else set(),
            )
        return roles.decide_lesson_role(
            user_id=user_id,
            teacher_id=lesson.teacher_id,
            is_co_teacher=flags.get("is_co_teacher", False),
            is_enrolled=flags.get("is_enrolled", False),
            is_parent_of_enrolled=flags.get("is_parent_of_enrolled", False),
            is_school_staff=staff,
            lesson_is_open=public,
            via_public_link=via_public_link,
        )
    page = _meeting_page(room)
    host_ids: set[int] = set()
    if user_id is not None:
        if page is not None:
            host_ids = set(
                page.hosts.through.objects.filter(
                    meetingpage_id=page.pk, user_id=user_id
                ).values_list("user_id", flat=True)
            )
        staff = roles.is_school_staff(
            is_staff=user.is_staff,
            is_superuser=user.is_superuser,
            group_names=_staff_group_names(user),
        )
    return roles.decide_meeting_role(
        user_id=user_id, host_ids=host_ids, is_school_staff=staff, meeting_is_open=public
    )


def room_role_for(*, room: Room, user) -> RoleDecision:
    """The role ``user`` (or anonymous) would get through ``POST /api/rooms/{id}/join/``.

    For "your role" displays and permission checks; writes nothing.
    """
    return _decide(room=room, user=user, via_public_link=False)


def _window_refusal(*, room: Room, now: datetime) -> roles.WindowRefusal | None:
    return roles.decide_window(
        room_status=room.status,
        is_cancelled=bool(room.lesson_id and room.lesson.is_cancelled),
        window_start=room.window_start,
        window_end=room.window_end,
        now=now,
    )


def room_permissions_for(*, room: Room, user, now: datetime | None = None) -> dict:
    """``{role, permissions}`` for ``GET /api/rooms/{id}/permissions/`` (no audit)."""
    now = now or timezone.now()
    decision = room_role_for(room=room, user=user)
    is_admin = bool(signed_in_id(user) and (user.is_staff or user.is_superuser))
    return {
        "role": decision.role,
        "permissions": roles.permissions_for(
            decision=decision,
            can_enter_now=_window_refusal(room=room, now=now) is None,
            is_school_admin=is_admin,
            room_is_public=room_is_public(room=room),
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


def room_join_user(*, room: Room, user, ip: str, now: datetime | None = None) -> JoinResult:
    """A signed-in user's join: the §4 role, then the room's window, then a fresh token.

    The role is decided before the window so that outsiders learn nothing about a room's state.
    """
    now = now or timezone.now()
    ip_digest = ip_hash(ip)
    name = (user.get_full_name() or user.get_username())[:DISPLAY_NAME_MAX]
    decision = _decide(room=room, user=user, via_public_link=False)
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

    room = room_for_joining(public_slug=slug)
    if room is None:
        raise not_found(None, Rule.PUBLIC_LINK_UNKNOWN)
    if not room_is_public(room=room):
        raise not_found(room, Rule.PUBLIC_LINK_NOT_OPEN)
    decision = _decide(room=room, user=None, via_public_link=True)
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
