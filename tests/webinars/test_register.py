"""The register's rules (webinars/register.py): pure, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from webinars.register import (
    Expected,
    Rules,
    Session,
    Summary,
    merge_intervals,
    presence_of,
    register_of,
    status_of,
)

START = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)
RULES = Rules(late_after=timedelta(minutes=5), left_early_before=timedelta(minutes=10))


def t(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def stay(a: float, b: float | None, person="user:1", reported=False, **kw) -> Session:
    return Session(
        person=person, joined_at=t(a), left_at=None if b is None else t(b), reported=reported, **kw
    )


def register(*sessions, until=END + timedelta(minutes=10), expected=("user:1",)):
    people = [Expected(person=key, name=key) for key in expected]
    return register_of(
        expected=people, sessions=sessions, start=START, end=END, until=until, rules=RULES
    )


def test_overlapping_and_touching_intervals_merge_a_gap_keeps_them_apart():
    merged = merge_intervals([(t(0), t(10)), (t(5), t(20)), (t(20), t(25)), (t(30), t(40))])
    assert merged == [(t(0), t(25)), (t(30), t(40))]


def test_empty_or_backwards_intervals_are_dropped():
    assert merge_intervals([(t(10), t(10)), (t(12), t(11))]) == []


def test_two_devices_at_once_count_their_minutes_once():
    presence = presence_of([stay(0, 45), stay(10, 30)], start=START, end=END, until=END)
    assert presence.minutes == 45 and presence.stays == 1


def test_a_rejoin_after_a_gap_is_a_second_stay_and_the_gap_is_not_counted():
    presence = presence_of([stay(0, 20), stay(25, 45)], start=START, end=END, until=END)
    assert presence.stays == 2 and presence.minutes == 40
    assert presence.first_join == t(0) and presence.last_leave == t(45)


def test_only_minutes_inside_the_lesson_count():
    presence = presence_of([stay(-10, 55)], start=START, end=END, until=END)
    assert presence.minutes == 45 and presence.first_join == t(-10)


def test_a_stay_only_before_the_start_makes_nobody_present():
    line = register(stay(-14, -2)).expected[0]
    assert line.status == "absent" and line.first_join is None and line.minutes == 0


def test_on_time_and_to_the_end_is_present():
    line = register(stay(1, 46)).expected[0]
    assert (line.status, line.late, line.left_early) == ("present", False, False)


@pytest.mark.parametrize(("joined", "status"), [(5, "present"), (5.1, "late"), (20, "late")])
def test_late_means_more_than_five_minutes_after_the_start(joined, status):
    assert register(stay(joined, 45)).expected[0].status == status


@pytest.mark.parametrize(
    ("left", "status"), [(35, "present"), (34.9, "left_early"), (10, "left_early")]
)
def test_left_early_means_gone_more_than_ten_minutes_before_the_end(left, status):
    assert register(stay(0, left)).expected[0].status == status


def test_leaving_and_rejoining_to_the_end_is_not_left_early():
    line = register(stay(0, 15), stay(20, 45)).expected[0]
    assert line.status == "present" and line.presence.stays == 2 and line.minutes == 40


def test_late_and_left_early_keeps_both_facts():
    line = register(stay(12, 20)).expected[0]
    assert (line.status, line.late, line.left_early) == ("late", True, True)


def test_nobody_there_is_absent():
    line = register().expected[0]
    assert (line.status, line.first_join, line.last_leave, line.minutes) == (
        "absent",
        None,
        None,
        0,
    )


def test_a_stay_still_open_counts_until_now_and_has_no_leave_yet():
    line = register(stay(0, None), until=t(30)).expected[0]
    assert line.last_leave is None and line.minutes == 30 and line.status == "present"


def test_the_platforms_report_wins_over_the_click_on_join():
    clicked = stay(0, None)  # clicked Join, the row stays open
    reported = stay(2, 20, reported=True)  # the platform saw them in from 2 to 20
    line = register(clicked, reported).expected[0]
    assert line.first_join == t(2) and line.last_leave == t(20) and line.status == "left_early"


def test_when_the_platform_reports_a_click_that_never_reached_the_room_is_absent():
    result = register(
        stay(0, 45, person="user:1", reported=True),
        stay(3, None, person="user:2"),  # clicked Join; the platform never saw them
        expected=("user:1", "user:2"),
    )
    assert [line.status for line in result.expected] == ["present", "absent"]


def test_without_reports_the_join_rows_are_the_truth():
    line = register(stay(0, 45)).expected[0]
    assert line.status == "present"


def test_others_come_apart_by_first_join_and_people_never_inside_the_lesson_are_left_out():
    result = register(
        stay(0, 45),
        stay(-3, 50, person="user:9", name="Teacher", role="moderator"),
        stay(10, 20, person="guest:guest-ab", name="Grandma", role="observer"),
        stay(50, 54, person="guest:guest-cd", name="Late visitor", role="observer"),
    )
    assert [line.name for line in result.others] == ["Teacher", "Grandma"]
    assert result.others[0].status is None and result.others[1].minutes == 10
    assert result.counts() == {"present": 1, "late": 0, "left_early": 0, "absent": 0}


def test_expected_participants_keep_the_given_order():
    result = register(stay(0, 45, person="user:2"), expected=("user:3", "user:2"))
    assert [(line.person, line.status) for line in result.expected] == [
        ("user:3", "absent"),
        ("user:2", "present"),
    ]


def test_status_of_zero_seconds_is_absent():
    presence = presence_of([], start=START, end=END, until=END)
    assert status_of(presence, start=START, end=END, rules=RULES) == ("absent", False, False)


def test_summary_adds_lines():
    lines = [
        register(stay(0, 45)).expected[0],
        register(stay(12, 20)).expected[0],
        register().expected[0],
    ]
    summary = Summary()
    for line in lines:
        summary = summary.add(line)
    assert summary == Summary(expected=3, attended=2, late=1, left_early=1, absent=1, minutes=53)
