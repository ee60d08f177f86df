"""Who joins as what (SPEC §4): the role table in code, as pure functions.

Nothing here touches the database. The join service gathers the facts (ids, sets, flags) in one
query and passes them in, so every cell of the table can be read, and tested, in one place.
Each decision names the rule that made it; the rule is written to ``JoinAudit``.

Precedence is the order of the table's rows: a teacher who is also in the Director group
moderates; a student who is also a parent participates.
"""

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime

from rest_framework import status

from webinars.choices import STAFF_ROLE_GROUPS, JoinRole, RoomStatus


class Rule:
    """Names of the rules that decide a join; stable strings (they are stored in JoinAudit)."""

    LESSON_TEACHER = "lesson_teacher"
    LESSON_CO_TEACHER = "lesson_co_teacher"
    ENROLLED_STUDENT = "enrolled_student"
    PARENT_OF_ENROLLED = "parent_of_enrolled_student"
    SCHOOL_STAFF = "school_staff"
    OPEN_LESSON_SIGNED_IN = "open_lesson_signed_in"
    OPEN_LESSON_PUBLIC_LINK = "open_lesson_public_link"
    CLOSED_LESSON_OUTSIDER = "closed_lesson_outsider"
    CLOSED_LESSON_ANONYMOUS = "closed_lesson_anonymous"
    ANONYMOUS_WITHOUT_LINK = "anonymous_without_public_link"

    MEETING_HOST = "meeting_host"
    OPEN_MEETING_GUEST = "open_meeting_guest"
    STAFF_MEETING_STAFF = "staff_meeting_staff"
    STAFF_MEETING_OUTSIDER = "staff_meeting_outsider"

    PUBLIC_LINK_UNKNOWN = "public_link_unknown"
    PUBLIC_LINK_NOT_OPEN = "public_link_not_open"

    LESSON_CANCELLED = "lesson_cancelled"
    ROOM_CLOSED = "room_closed"
    BEFORE_WINDOW = "before_window"
    AFTER_WINDOW = "after_window"


@dataclass(frozen=True)
class RoleDecision:
    """A granted role (``role`` set, ``status_code`` 200) or a refusal (``role`` is None)."""

    role: str | None
    rule: str
    status_code: int = status.HTTP_200_OK

    @property
    def granted(self) -> bool:
        return self.role is not None

    @property
    def is_moderator(self) -> bool:
        return self.role == JoinRole.MODERATOR


def _grant(role: str, rule: str) -> RoleDecision:
    return RoleDecision(role=role, rule=rule)


def _refuse(rule: str, status_code: int = status.HTTP_403_FORBIDDEN) -> RoleDecision:
    return RoleDecision(role=None, rule=rule, status_code=status_code)


def is_school_staff(*, is_staff: bool, is_superuser: bool, group_names: Set[str]) -> bool:
    """Members of Director, Head teacher, Methodist or Auditor, ``is_staff`` and superusers."""
    return is_staff or is_superuser or not set(STAFF_ROLE_GROUPS).isdisjoint(group_names)


def decide_lesson_role(
    *,
    user_id: int | None,
    teacher_id: int,
    is_co_teacher: bool,
    is_enrolled: bool,
    is_parent_of_enrolled: bool,
    is_school_staff: bool,
    lesson_is_open: bool,
    via_public_link: bool,
) -> RoleDecision:
    """The §4 table for a lesson. ``user_id`` None means anonymous.

    ``is_enrolled``: the user studies the lesson's subject; ``is_parent_of_enrolled``: one of
    the user's children does. ``via_public_link``: the request came through the public slug.
    """
    if user_id is None:
        if not lesson_is_open:
            return _refuse(Rule.CLOSED_LESSON_ANONYMOUS)
        if via_public_link:
            return _grant(JoinRole.OBSERVER, Rule.OPEN_LESSON_PUBLIC_LINK)
        return _refuse(Rule.ANONYMOUS_WITHOUT_LINK)
    if user_id == teacher_id:
        return _grant(JoinRole.MODERATOR, Rule.LESSON_TEACHER)
    if is_co_teacher:
        return _grant(JoinRole.MODERATOR, Rule.LESSON_CO_TEACHER)
    if is_enrolled:
        return _grant(JoinRole.PARTICIPANT, Rule.ENROLLED_STUDENT)
    if is_parent_of_enrolled:
        return _grant(JoinRole.OBSERVER, Rule.PARENT_OF_ENROLLED)
    if is_school_staff:
        return _grant(JoinRole.OBSERVER, Rule.SCHOOL_STAFF)
    if lesson_is_open:
        return _grant(JoinRole.OBSERVER, Rule.OPEN_LESSON_SIGNED_IN)
    return _refuse(Rule.CLOSED_LESSON_OUTSIDER)


def decide_meeting_role(
    *,
    user_id: int | None,
    host_ids: Set[int],
    is_school_staff: bool,
    meeting_is_open: bool,
) -> RoleDecision:
    """Meetings: hosts moderate; an open meeting admits everyone else (signed in or not) as an
    observer; a non-open meeting admits signed-in school staff as participants, nobody else."""
    if user_id is not None and user_id in host_ids:
        return _grant(JoinRole.MODERATOR, Rule.MEETING_HOST)
    if meeting_is_open:
        return _grant(JoinRole.OBSERVER, Rule.OPEN_MEETING_GUEST)
    if user_id is not None and is_school_staff:
        return _grant(JoinRole.PARTICIPANT, Rule.STAFF_MEETING_STAFF)
    return _refuse(Rule.STAFF_MEETING_OUTSIDER)


@dataclass(frozen=True)
class WindowRefusal:
    """Why a room cannot be entered right now: 409 (too early, with ``opens_at``) or 410."""

    rule: str
    status_code: int
    opens_at: datetime | None = None


def decide_window(
    *,
    room_status: str,
    is_cancelled: bool,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> WindowRefusal | None:
    """None when the room may be entered now (SCHEDULED or OPEN, inside its window, SPEC §3).

    A cancelled lesson is gone (410) even if the scheduler has not closed its room yet; a
    room past its window is gone even if the scheduler is late closing it.
    """
    if is_cancelled:
        return WindowRefusal(Rule.LESSON_CANCELLED, status.HTTP_410_GONE)
    if room_status == RoomStatus.CLOSED:
        return WindowRefusal(Rule.ROOM_CLOSED, status.HTTP_410_GONE)
    if now < window_start:
        return WindowRefusal(Rule.BEFORE_WINDOW, status.HTTP_409_CONFLICT, opens_at=window_start)
    if now >= window_end:
        return WindowRefusal(Rule.AFTER_WINDOW, status.HTTP_410_GONE)
    return None


def permissions_for(
    *, decision: RoleDecision, can_enter_now: bool, is_school_admin: bool, room_is_public: bool
) -> dict[str, bool]:
    """What the role lets its holder do (``GET /api/rooms/{id}/permissions/``).

    Moderators moderate, record and close; staff (``is_staff``/superuser) may also close; anyone
    with a role may watch the recording, and so may anyone at all when the room is public.
    """
    moderator = decision.is_moderator
    return {
        "can_join": decision.granted and can_enter_now,
        "can_moderate": moderator,
        "can_record": moderator,
        "can_close": moderator or is_school_admin,
        "can_view_recording": decision.granted or room_is_public,
    }
