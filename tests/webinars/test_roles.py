"""The role table as pure functions over facts: every cell, the precedence of rows, the window
rules, and everything else the table decides (permissions, recordings, register, rooms)."""

from datetime import UTC, datetime, timedelta

import pytest

from webinars.choices import STAFF_ROLE_GROUPS, JoinRole, RoomStatus
from webinars.roles import (
    RoomFacts,
    Rule,
    ViewerFacts,
    decide_join,
    decide_lesson_role,
    decide_meeting_role,
    decide_window,
    is_school_staff,
    may_create_meeting,
    may_list_every_lesson,
    may_manage_room,
    may_read_attendance,
    may_read_room,
    may_read_room_calendar,
    may_watch_recordings,
    permissions_for,
)

MOD, PART, OBS = JoinRole.MODERATOR, JoinRole.PARTICIPANT, JoinRole.OBSERVER
TEACHER, CO, STUDENT, PARENT, STAFF, OTHER = 1, 2, 3, 4, 5, 6

LESSON_FACTS = {
    "teacher": {"user_id": TEACHER, "is_teacher": True},
    "co_teacher": {"user_id": CO, "is_co_teacher": True},
    "student": {"user_id": STUDENT, "is_enrolled": True},
    "parent": {"user_id": PARENT, "is_parent_of_enrolled": True},
    "staff": {"user_id": STAFF, "staff_group": "Director"},
    "other": {"user_id": OTHER},
    "anonymous": {"user_id": None},
}

# who -> (closed lesson, open lesson): a role, or (status, rule) for a refusal
LESSON_TABLE = {
    "teacher": (MOD, MOD),
    "co_teacher": (MOD, MOD),
    "student": (PART, PART),
    "parent": (OBS, OBS),
    "staff": (OBS, OBS),
    "other": ((403, Rule.CLOSED_LESSON_OUTSIDER), OBS),
    "anonymous": ((403, Rule.CLOSED_LESSON_ANONYMOUS), (403, Rule.ANONYMOUS_WITHOUT_LINK)),
    "anonymous_via_link": ((403, Rule.CLOSED_LESSON_ANONYMOUS), OBS),
}


def lesson_room(is_open: bool) -> RoomFacts:
    return RoomFacts(is_meeting=False, room_is_open=is_open, lesson_is_open=is_open)


def meeting_room(is_open: bool) -> RoomFacts:
    return RoomFacts(is_meeting=True, room_is_open=is_open, page_is_open=is_open)


def facts(who: str, room: RoomFacts | None = None, **overrides) -> ViewerFacts:
    return ViewerFacts(room=room, **{**LESSON_FACTS[who], **overrides})


def assert_decision(decision, expected):
    if isinstance(expected, tuple):
        assert (decision.granted, decision.status_code, decision.rule) == (False, *expected)
        assert decision.role is None
    else:
        assert decision.granted and decision.status_code == 200
        assert decision.role == expected


@pytest.mark.parametrize("is_open", [False, True], ids=["closed_lesson", "open_lesson"])
@pytest.mark.parametrize("who", list(LESSON_TABLE))
def test_every_cell_of_the_lesson_table(who, is_open):
    expected = LESSON_TABLE[who][int(is_open)]
    via_link = who == "anonymous_via_link"
    viewer = facts("anonymous" if via_link else who, lesson_room(is_open))
    assert_decision(
        decide_lesson_role(viewer, lesson_is_open=is_open, via_public_link=via_link), expected
    )
    assert_decision(decide_join(viewer, via_public_link=via_link), expected)


def test_the_first_matching_row_decides():
    everything = {"is_co_teacher": True, "is_enrolled": True, "is_parent_of_enrolled": True}
    closed = lesson_room(False)
    teacher = decide_join(facts("teacher", closed, staff_group="Director", **everything))
    assert (teacher.role, teacher.rule) == (MOD, Rule.LESSON_TEACHER)
    student_and_parent = decide_join(facts("parent", closed, is_enrolled=True))
    assert student_and_parent.role == PART
    director_parent = decide_join(facts("staff", closed, is_parent_of_enrolled=True))
    assert director_parent.rule == Rule.PARENT_OF_ENROLLED


HOST, VISITOR = 10, 11
# who -> (facts, open meeting, non-open meeting)
MEETING_TABLE = {
    "host": ({"user_id": HOST, "is_meeting_host": True}, MOD, MOD),
    "staff": ({"user_id": STAFF, "is_superuser": True}, OBS, PART),
    "signed_in": ({"user_id": VISITOR}, OBS, (403, Rule.STAFF_MEETING_OUTSIDER)),
    "anonymous": ({"user_id": None}, OBS, (403, Rule.STAFF_MEETING_OUTSIDER)),
}


@pytest.mark.parametrize("is_open", [True, False], ids=["open_meeting", "staff_meeting"])
@pytest.mark.parametrize("who", list(MEETING_TABLE))
def test_every_cell_of_the_meeting_table(who, is_open):
    fields, *cells = MEETING_TABLE[who]
    expected = cells[0 if is_open else 1]
    viewer = ViewerFacts(room=meeting_room(is_open), **fields)
    assert_decision(decide_meeting_role(viewer, meeting_is_open=is_open), expected)
    assert_decision(decide_join(viewer), expected)


def test_anonymous_is_never_a_host_or_staff_whatever_the_flags_say():
    ghost = ViewerFacts(
        room=meeting_room(False), user_id=None, is_meeting_host=True, is_superuser=True
    )
    assert not decide_join(ghost).granted


@pytest.mark.parametrize("group", STAFF_ROLE_GROUPS)
def test_each_leadership_group_counts_as_school_staff(group):
    assert is_school_staff(is_staff=False, is_superuser=False, group_names={group})
    assert ViewerFacts(user_id=1, staff_group=group).is_school_staff


def test_other_groups_and_plain_users_are_not_school_staff():
    assert not is_school_staff(is_staff=False, is_superuser=False, group_names={"Teachers"})
    assert is_school_staff(is_staff=True, is_superuser=False, group_names=set())
    assert is_school_staff(is_staff=False, is_superuser=True, group_names=set())
    assert not ViewerFacts(user_id=1).is_school_staff


# --- A room's "open" flags ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("room", "public", "recordings_public"),
    [
        (RoomFacts(is_meeting=False, room_is_open=True, lesson_is_open=True), True, True),
        # a lesson unticked as open: closed at once, before its room is synchronised
        (RoomFacts(is_meeting=False, room_is_open=True, lesson_is_open=False), False, False),
        # a lesson ticked as open whose room is not synchronised yet: its recordings are public
        (RoomFacts(is_meeting=False, room_is_open=False, lesson_is_open=True), False, True),
        (RoomFacts(is_meeting=True, room_is_open=True, page_is_open=True), True, True),
        (RoomFacts(is_meeting=True, room_is_open=True, page_is_open=False), False, False),
        (RoomFacts(is_meeting=True, room_is_open=False, page_is_open=True), False, True),
        (RoomFacts(is_meeting=True, room_is_open=True, page_is_open=None), True, True),
        (RoomFacts(is_meeting=True, room_is_open=False, page_is_open=None), False, False),
    ],
)
def test_which_flags_make_a_room_and_its_recordings_public(room, public, recordings_public):
    assert room.is_public is public
    assert room.recordings_are_public is recordings_public
    outsider = ViewerFacts(room=room, user_id=OTHER)
    assert decide_join(outsider).granted is public
    assert may_watch_recordings(outsider) is recordings_public
    assert may_watch_recordings(ViewerFacts(room=room)) is recordings_public  # anonymous


# --- Everything else the table decides ------------------------------------------------------

# who -> (read room, manage room, read attendance, watch recordings) in a closed lesson
CLOSED_LESSON_RIGHTS = {
    "teacher": (True, True, True, True),
    "co_teacher": (True, True, True, True),
    "student": (True, False, False, True),
    "parent": (True, False, False, True),
    "staff": (True, False, True, True),
    "other": (False, False, False, False),
    "anonymous": (False, False, False, False),
}


@pytest.mark.parametrize("who", list(CLOSED_LESSON_RIGHTS))
def test_what_each_row_may_do_in_a_closed_lesson(who):
    viewer = facts(who, lesson_room(False))
    rights = (
        may_read_room(viewer),
        may_manage_room(viewer),
        may_read_attendance(viewer),
        may_watch_recordings(viewer),
    )
    assert rights == CLOSED_LESSON_RIGHTS[who]
    assert may_read_room_calendar(viewer) is rights[0]


def test_an_open_lesson_opens_reading_and_recordings_not_managing_or_the_register():
    outsider = facts("other", lesson_room(True))
    assert may_read_room(outsider) and may_watch_recordings(outsider)
    assert may_read_room_calendar(outsider)
    assert not may_manage_room(outsider) and not may_read_attendance(outsider)
    assert may_watch_recordings(facts("anonymous", lesson_room(True)))


def test_administrators_manage_any_room_and_leadership_groups_only_read():
    for room in (lesson_room(False), meeting_room(False)):
        admin = ViewerFacts(room=room, user_id=STAFF, is_staff=True)
        director = ViewerFacts(room=room, user_id=STAFF, staff_group="Director")
        assert may_manage_room(admin) and may_read_attendance(admin)
        assert not may_manage_room(director) and may_read_attendance(director)


def test_meeting_hosts_manage_and_read_the_register_of_their_meeting():
    host = ViewerFacts(room=meeting_room(False), user_id=HOST, is_meeting_host=True)
    visitor = ViewerFacts(room=meeting_room(True), user_id=VISITOR)
    assert may_manage_room(host) and may_read_attendance(host) and may_read_room(host)
    assert may_read_room(visitor) and not may_manage_room(visitor)
    assert not may_read_attendance(visitor)
    assert not may_read_room(ViewerFacts(room=meeting_room(False), user_id=VISITOR))


def test_reading_a_meeting_follows_its_room_and_a_lesson_follows_the_lesson():
    outsider = {"user_id": OTHER}
    page_closed = RoomFacts(is_meeting=True, room_is_open=True, page_is_open=False)
    assert may_read_room(ViewerFacts(room=page_closed, **outsider))
    unsynced = RoomFacts(is_meeting=False, room_is_open=False, lesson_is_open=True)
    assert may_read_room(ViewerFacts(room=unsynced, **outsider))
    assert not may_read_room_calendar(ViewerFacts(room=unsynced, **outsider))


def test_school_staff_create_meetings_and_nobody_else():
    assert may_create_meeting(ViewerFacts(user_id=STAFF, staff_group="Methodist"))
    assert may_create_meeting(ViewerFacts(user_id=STAFF, is_superuser=True))
    assert not may_create_meeting(ViewerFacts(user_id=TEACHER))
    assert not may_create_meeting(ViewerFacts())


def test_school_staff_and_teachers_list_every_lesson_and_nobody_else():
    assert may_list_every_lesson(
        ViewerFacts(user_id=STAFF, staff_group="Auditor"), is_teacher=False
    )
    assert may_list_every_lesson(ViewerFacts(user_id=STAFF, is_staff=True), is_teacher=False)
    assert may_list_every_lesson(ViewerFacts(user_id=TEACHER), is_teacher=True)
    assert not may_list_every_lesson(ViewerFacts(user_id=STUDENT), is_teacher=False)
    assert not may_list_every_lesson(ViewerFacts(), is_teacher=False)


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = {"window_start": START - timedelta(minutes=15), "window_end": START + timedelta(hours=1)}


@pytest.mark.parametrize(
    ("room_status", "cancelled", "now", "expected"),
    [
        (RoomStatus.SCHEDULED, False, START - timedelta(minutes=16), (409, Rule.BEFORE_WINDOW)),
        (RoomStatus.SCHEDULED, False, START - timedelta(minutes=15), None),
        (RoomStatus.OPEN, False, START + timedelta(minutes=59), None),
        (RoomStatus.OPEN, False, START + timedelta(hours=1), (410, Rule.AFTER_WINDOW)),
        (RoomStatus.CLOSED, False, START, (410, Rule.ROOM_CLOSED)),
        (RoomStatus.SCHEDULED, True, START, (410, Rule.LESSON_CANCELLED)),
        (RoomStatus.SCHEDULED, True, START - timedelta(hours=3), (410, Rule.LESSON_CANCELLED)),
    ],
)
def test_the_window_decides_after_the_role(room_status, cancelled, now, expected):
    refusal = decide_window(room_status=room_status, is_cancelled=cancelled, now=now, **WINDOW)
    if expected is None:
        assert refusal is None
    else:
        assert (refusal.status_code, refusal.rule) == expected
        assert refusal.opens_at == (WINDOW["window_start"] if expected[0] == 409 else None)


ALL_PERMISSIONS = ["can_join", "can_moderate", "can_record", "can_close", "can_view_recording"]


def test_permissions_follow_the_role():
    closed = lesson_room(False)
    assert permissions_for(facts=facts("teacher", closed), can_enter_now=True) == dict.fromkeys(
        ALL_PERMISSIONS, True
    )
    assert permissions_for(facts=facts("staff", closed), can_enter_now=True) == {
        "can_join": True,
        "can_moderate": False,
        "can_record": False,
        "can_close": False,
        "can_view_recording": True,
    }
    assert not any(permissions_for(facts=facts("other", closed), can_enter_now=True).values())
    later = permissions_for(facts=facts("teacher", closed), can_enter_now=False)
    assert later["can_join"] is False and later["can_moderate"] is True
    admin = permissions_for(facts=facts("other", closed, is_staff=True), can_enter_now=True)
    assert admin["can_close"] is True and admin["can_moderate"] is False
