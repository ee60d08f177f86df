"""Who joins as what, and who may do what in a room: the role table (docs/roles.md) in code.

Nothing here touches the database or a request. ``webinars.selectors.viewer`` gathers what the
table asks about one viewer in one room into a ``ViewerFacts`` (on the join's hot path in the same
statement that reads the room), and every decision about that viewer is read off those facts
here: the join role, the permission flags, recordings, the register, reading, closing and
creating rooms, the role shown on "My lessons". Each join decision names the rule that made it;
the rule is written to ``JoinAudit``.

Precedence is the order of the table's rows: a teacher who is also in the Director group
moderates; a student who is also a parent participates.
"""

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

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


# --- The facts ------------------------------------------------------------------------------


def is_school_staff(*, is_staff: bool, is_superuser: bool, group_names: Set[str]) -> bool:
    """Members of Director, Head teacher, Methodist or Auditor, ``is_staff`` and superusers."""
    return is_staff or is_superuser or not set(STAFF_ROLE_GROUPS).isdisjoint(group_names)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomFacts:
    """What the rules read of the room itself: the same for every viewer.

    A lesson has two "open" flags (the lesson's, ticked by editors, and its room's, synchronised
    from it) and a meeting two (its page's and its room's); the rules say which they read.
    """

    is_meeting: bool
    room_is_open: bool
    lesson_is_open: bool = False
    page_is_open: bool | None = None  # a meeting's page's flag; None: no page (or a lesson)

    @property
    def is_public(self) -> bool:
        """Open to anyone with the link: the room *and* its lesson or meeting page must say so.

        Requiring both means a lesson unticked as open is closed at once, even before its room
        is synchronised. A meeting whose page is gone follows its room.
        """
        if not self.room_is_open:
            return False
        if self.is_meeting:
            return self.page_is_open is not False
        return self.lesson_is_open

    @property
    def recordings_are_public(self) -> bool:
        """Open lessons' and open meetings' recordings are public, as the lesson or the meeting's
        page says (a meeting without a page: as its room says); closed lessons' are private."""
        if self.is_meeting:
            return self.room_is_open if self.page_is_open is None else self.page_is_open
        return self.lesson_is_open


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewerFacts:
    """Who one viewer is to one room: everything the table asks, and nothing else.

    ``user_id`` None is an anonymous visitor (every other flag False). ``room`` None: facts
    about the person alone (may they create a meeting?). ``staff_group`` is one of the user's
    staff-role groups (the first by name), or None.
    """

    room: RoomFacts | None = None
    user_id: int | None = None
    is_staff: bool = False
    is_superuser: bool = False
    staff_group: str | None = None
    is_teacher: bool = False
    is_co_teacher: bool = False
    is_enrolled: bool = False
    is_parent_of_enrolled: bool = False
    is_meeting_host: bool = False

    @property
    def is_school_admin(self) -> bool:
        """``is_staff`` or superuser: the administrators, who may close any room."""
        return self.is_staff or self.is_superuser

    @property
    def is_school_staff(self) -> bool:
        return is_school_staff(
            is_staff=self.is_staff,
            is_superuser=self.is_superuser,
            group_names={self.staff_group} if self.staff_group else set(),
        )


# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleDecision:
    """A granted role (``role`` set, ``status_code`` 200) or a refusal (``role`` is None)."""

    role: str | None
    rule: str
    status_code: int = HTTPStatus.OK

    @property
    def granted(self) -> bool:
        return self.role is not None

    @property
    def is_moderator(self) -> bool:
        return self.role == JoinRole.MODERATOR


def _grant(role: str, rule: str) -> RoleDecision:
    return RoleDecision(role=role, rule=rule)


def _refuse(rule: str, status_code: int = HTTPStatus.FORBIDDEN) -> RoleDecision:
    return RoleDecision(role=None, rule=rule, status_code=status_code)


def decide_lesson_role(
    facts: ViewerFacts, *, lesson_is_open: bool, via_public_link: bool
) -> RoleDecision:
    """The table for a lesson. ``via_public_link``: the request came through the public slug."""
    if facts.user_id is None:
        if not lesson_is_open:
            return _refuse(Rule.CLOSED_LESSON_ANONYMOUS)
        if via_public_link:
            return _grant(JoinRole.OBSERVER, Rule.OPEN_LESSON_PUBLIC_LINK)
        return _refuse(Rule.ANONYMOUS_WITHOUT_LINK)
    if facts.is_teacher:
        return _grant(JoinRole.MODERATOR, Rule.LESSON_TEACHER)
    if facts.is_co_teacher:
        return _grant(JoinRole.MODERATOR, Rule.LESSON_CO_TEACHER)
    if facts.is_enrolled:
        return _grant(JoinRole.PARTICIPANT, Rule.ENROLLED_STUDENT)
    if facts.is_parent_of_enrolled:
        return _grant(JoinRole.OBSERVER, Rule.PARENT_OF_ENROLLED)
    if facts.is_school_staff:
        return _grant(JoinRole.OBSERVER, Rule.SCHOOL_STAFF)
    if lesson_is_open:
        return _grant(JoinRole.OBSERVER, Rule.OPEN_LESSON_SIGNED_IN)
    return _refuse(Rule.CLOSED_LESSON_OUTSIDER)


def decide_meeting_role(facts: ViewerFacts, *, meeting_is_open: bool) -> RoleDecision:
    """Meetings: hosts moderate; an open meeting admits everyone else (signed in or not) as an
    observer; a non-open meeting admits signed-in school staff as participants, nobody else."""
    signed_in = facts.user_id is not None
    if signed_in and facts.is_meeting_host:
        return _grant(JoinRole.MODERATOR, Rule.MEETING_HOST)
    if meeting_is_open:
        return _grant(JoinRole.OBSERVER, Rule.OPEN_MEETING_GUEST)
    if signed_in and facts.is_school_staff:
        return _grant(JoinRole.PARTICIPANT, Rule.STAFF_MEETING_STAFF)
    return _refuse(Rule.STAFF_MEETING_OUTSIDER)


def _decide(facts: ViewerFacts, *, is_open: bool, via_public_link: bool = False) -> RoleDecision:
    """The lesson or meeting table for ``facts.room``, taking the room as open if ``is_open``."""
    if facts.room.is_meeting:
        return decide_meeting_role(facts, meeting_is_open=is_open)
    return decide_lesson_role(facts, lesson_is_open=is_open, via_public_link=via_public_link)


# --- What the table decides -----------------------------------------------------------------


def decide_join(facts: ViewerFacts, *, via_public_link: bool = False) -> RoleDecision:
    """The role a join gives (also the "your role" of permissions and of "My lessons").

    A room counts as open when it is public (``RoomFacts.is_public``).
    """
    return _decide(facts, is_open=facts.room.is_public, via_public_link=via_public_link)


def may_read_room(facts: ViewerFacts) -> bool:
    """May read the room's metadata (it names the video room): anyone the table admits, a
    lesson counting as open when the lesson says so and a meeting when its room does."""
    room = facts.room
    return _decide(
        facts, is_open=room.room_is_open if room.is_meeting else room.lesson_is_open
    ).granted


def may_manage_room(facts: ViewerFacts) -> bool:
    """May close the room now, or create a lesson's room ahead of its window: administrators
    (``is_staff``/superuser) and the room's moderators (teachers, co-teachers, hosts)."""
    return facts.is_school_admin or decide_join(facts).is_moderator


def may_create_meeting(facts: ViewerFacts) -> bool:
    """School staff (the staff-role groups, ``is_staff``, superusers) create meetings."""
    return facts.is_school_staff


def may_read_attendance(facts: ViewerFacts) -> bool:
    """The register is for the room's moderators and for school staff."""
    return decide_join(facts).is_moderator or facts.is_school_staff


def may_read_student_attendance(
    facts: ViewerFacts, *, is_student: bool, is_parent: bool, teaches_student: bool
) -> bool:
    """One student's attendance across lessons: the student, their parents, the teachers of
    lessons that expect them (who then see only those lessons), and school staff.
    ``facts`` are the viewer's facts about the person alone (``room`` None)."""
    return is_student or is_parent or teaches_student or facts.is_school_staff


def may_list_every_lesson(facts: ViewerFacts, *, is_teacher: bool) -> bool:
    """The whole timetable in the API's lists (every lesson's title, time, subject and
    teacher's name): school staff and teachers (members of Teachers). Everyone else lists the
    lessons they are tied to and the open ones (docs/api.md). ``facts``: the person alone."""
    return is_teacher or facts.is_school_staff


def may_read_room_calendar(facts: ViewerFacts) -> bool:
    """A room's iCal event: anyone when the room is open, else whoever may join it."""
    return facts.room.room_is_open or decide_join(facts).granted


def may_watch_recordings(facts: ViewerFacts) -> bool:
    """Exactly the people the table lets into the room, or anyone (signed in or not) when the
    recordings are public (``RoomFacts.recordings_are_public``)."""
    return _decide(facts, is_open=facts.room.recordings_are_public, via_public_link=True).granted


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
    """None when the room may be entered now (SCHEDULED or OPEN, inside its window).

    A cancelled lesson is gone (410) even if the scheduler has not closed its room yet; a
    room past its window is gone even if the scheduler is late closing it.
    """
    if is_cancelled:
        return WindowRefusal(Rule.LESSON_CANCELLED, HTTPStatus.GONE)
    if room_status == RoomStatus.CLOSED:
        return WindowRefusal(Rule.ROOM_CLOSED, HTTPStatus.GONE)
    if now < window_start:
        return WindowRefusal(Rule.BEFORE_WINDOW, HTTPStatus.CONFLICT, opens_at=window_start)
    if now >= window_end:
        return WindowRefusal(Rule.AFTER_WINDOW, HTTPStatus.GONE)
    return None


def permissions_for(*, facts: ViewerFacts, can_enter_now: bool) -> dict[str, bool]:
    """What the join role lets its holder do (``GET /api/rooms/{id}/permissions/``).

    Moderators moderate, record and close; administrators may also close; anyone with a role
    may watch the recording, and so may anyone at all when the room is public.
    """
    decision = decide_join(facts)
    moderator = decision.is_moderator
    return {
        "can_join": decision.granted and can_enter_now,
        "can_moderate": moderator,
        "can_record": moderator,
        "can_close": may_manage_room(facts),
        "can_view_recording": decision.granted or facts.room.is_public,
    }
