"""The §4 table as pure functions: every cell, the precedence of rows, the window rules."""

from datetime import UTC, datetime, timedelta

import pytest

from webinars.choices import STAFF_ROLE_GROUPS, JoinRole, RoomStatus
from webinars.roles import (
    RoleDecision,
    Rule,
    decide_lesson_role,
    decide_meeting_role,
    decide_window,
    is_school_staff,
    permissions_for,
)

TEACHER, CO, STUDENT, PARENT, STAFF, OTHER = 1, 2, 3, 4, 5, 6

LESSON_FACTS = {
    "teacher": {"user_id": TEACHER},
    "co_teacher": {"user_id": CO, "is_co_teacher": True},
    "student": {"user_id": STUDENT, "is_enrolled": True},
    "parent": {"user_id": PARENT, "is_parent_of_enrolled": True},
    "staff": {"user_id": STAFF, "is_school_staff": True},
    "other": {"user_id": OTHER},
    "anonymous": {"user_id": None},
    "anonymous_via_link": {"user_id": None, "via_public_link": True},
}

# who -> (closed lesson, open lesson): a role, or (status, rule) for a refusal
LESSON_TABLE = {
    "teacher": (JoinRole.MODERATOR, JoinRole.MODERATOR),
    "co_teacher": (JoinRole.MODERATOR, JoinRole.MODERATOR),
    "student": (JoinRole.PARTICIPANT, JoinRole.PARTICIPANT),
    "parent": (JoinRole.OBSERVER, JoinRole.OBSERVER),
    "staff": (JoinRole.OBSERVER, JoinRole.OBSERVER),
    "other": ((403, Rule.CLOSED_LESSON_OUTSIDER), JoinRole.OBSERVER),
    "anonymous": ((403, Rule.CLOSED_LESSON_ANONYMOUS), (403, Rule.ANONYMOUS_WITHOUT_LINK)),
    "anonymous_via_link": ((403, Rule.CLOSED_LESSON_ANONYMOUS), JoinRole.OBSERVER),
}


def lesson_decision(who: str, *, is_open: bool, **overrides) -> RoleDecision:
    facts = {
        "teacher_id": TEACHER,
        "is_co_teacher": False,
        "is_enrolled": False,
        "is_parent_of_enrolled": False,
        "is_school_staff": False,
        "lesson_is_open": is_open,
        "via_public_link": False,
        **LESSON_FACTS[who],
        **overrides,
    }
    return decide_lesson_role(**facts)


@pytest.mark.parametrize("is_open", [False, True], ids=["closed_lesson", "open_lesson"])
@pytest.mark.parametrize("who", list(LESSON_TABLE))
def test_every_cell_of_the_lesson_table(who, is_open):
    expected = LESSON_TABLE[who][int(is_open)]
    decision = lesson_decision(who, is_open=is_open)
    if isinstance(expected, tuple):
        assert (decision.granted, decision.status_code, decision.rule) == (False, *expected)
        assert decision.role is None
    else:
        assert decision.granted and decision.status_code == 200
        assert decision.role == expected


def test_the_first_matching_row_decides():
    everything = {"is_co_teacher": True, "is_enrolled": True, "is_parent_of_enrolled": True}
    teacher = lesson_decision("teacher", is_open=False, is_school_staff=True, **everything)
    assert (teacher.role, teacher.rule) == (JoinRole.MODERATOR, Rule.LESSON_TEACHER)
    student_and_parent = lesson_decision("parent", is_open=False, is_enrolled=True)
    assert student_and_parent.role == JoinRole.PARTICIPANT
    director_parent = lesson_decision("staff", is_open=False, is_parent_of_enrolled=True)
    assert director_parent.rule == Rule.PARENT_OF_ENROLLED


HOST, VISITOR = 10, 11
# who -> (open meeting, non-open meeting)
MEETING_TABLE = {
    "host": ({"user_id": HOST}, JoinRole.MODERATOR, JoinRole.MODERATOR),
    "staff": ({"user_id": STAFF, "is_school_staff": True}, JoinRole.OBSERVER, JoinRole.PARTICIPANT),
    "signed_in": ({"user_id": VISITOR}, JoinRole.OBSERVER, (403, Rule.STAFF_MEETING_OUTSIDER)),
    "anonymous": ({"user_id": None}, JoinRole.OBSERVER, (403, Rule.STAFF_MEETING_OUTSIDER)),
}


@pytest.mark.parametrize("is_open", [True, False], ids=["open_meeting", "staff_meeting"])
@pytest.mark.parametrize("who", list(MEETING_TABLE))
def test_every_cell_of_the_meeting_table(who, is_open):
    facts, *cells = MEETING_TABLE[who]
    expected = cells[0 if is_open else 1]
    decision = decide_meeting_role(
        host_ids={HOST}, meeting_is_open=is_open, **{"is_school_staff": False, **facts}
    )
    if isinstance(expected, tuple):
        assert (decision.role, decision.status_code, decision.rule) == (None, *expected)
    else:
        assert decision.role == expected


def test_anonymous_is_never_a_host_even_with_a_none_in_the_set():
    decision = decide_meeting_role(
        user_id=None, host_ids={None}, is_school_staff=True, meeting_is_open=False
    )
    assert not decision.granted


@pytest.mark.parametrize("group", STAFF_ROLE_GROUPS)
def test_each_leadership_group_counts_as_school_staff(group):
    assert is_school_staff(is_staff=False, is_superuser=False, group_names={group})


def test_other_groups_and_plain_users_are_not_school_staff():
    assert not is_school_staff(is_staff=False, is_superuser=False, group_names={"Teachers"})
    assert is_school_staff(is_staff=True, is_superuser=False, group_names=set())
    assert is_school_staff(is_staff=False, is_superuser=True, group_names=set())


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


def test_permissions_follow_the_role():
    moderator = RoleDecision(role=JoinRole.MODERATOR, rule=Rule.LESSON_TEACHER)
    observer = RoleDecision(role=JoinRole.OBSERVER, rule=Rule.SCHOOL_STAFF)
    refused = RoleDecision(role=None, rule=Rule.CLOSED_LESSON_OUTSIDER, status_code=403)
    common = {"can_enter_now": True, "is_school_admin": False, "room_is_public": False}
    assert permissions_for(decision=moderator, **common) == dict.fromkeys(
        ["can_join", "can_moderate", "can_record", "can_close", "can_view_recording"], True
    )
    assert permissions_for(decision=observer, **common) == {
        "can_join": True,
        "can_moderate": False,
        "can_record": False,
        "can_close": False,
        "can_view_recording": True,
    }
    assert not any(permissions_for(decision=refused, **common).values())
    later = permissions_for(decision=moderator, **{**common, "can_enter_now": False})
    assert later["can_join"] is False and later["can_moderate"] is True
