"""A lesson's register from its sessions: pure functions over plain data (docs/register.md).

No ORM, no request: ``webinars.selectors.register`` reads the sessions and the expected
participants and hands them in; everything the register says is decided here, so the rules
can be tested on their own.

Rules, in short:

- A person's sessions are merged where they overlap or touch (two devices, a reconnect, a
  breakout room) before anything is counted; a rejoin after a gap stays a separate stay.
- When the video platform reports who is in the room (JaaS webhooks, Prosody event sync: any
  reported stay in the room), its reports are the truth and the portal's own "clicked Join"
  rows are ignored: a click that never reached the room is not presence. Without reports the
  join rows are all there is.
- Only time inside the lesson (``start`` … ``end``) counts as minutes; a stay that never
  touches it makes no one present.
- ``late``: the first join is more than ``late_after`` after the start. ``left_early``: the
  last leave is more than ``left_early_before`` before the end (whoever rejoined and stayed is
  not early). A stay still open counts up to ``until`` and has no leave yet.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from webinars.choices import RegisterStatus


@dataclass(frozen=True, slots=True)
class Session:
    """One stay in the room. ``person`` keys the stays of one person (``user:<id>``,
    ``guest:<id>``); ``reported``: the platform reported it (not just a click on Join)."""

    person: str
    joined_at: datetime
    left_at: datetime | None
    name: str = ""
    role: str = ""
    reported: bool = False


@dataclass(frozen=True, slots=True)
class Expected:
    """Someone the register expects (the class, or the subject's enrolled students)."""

    person: str
    name: str
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    late_after: timedelta = timedelta(minutes=5)
    left_early_before: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Presence:
    """What a person's stays say about one lesson."""

    first_join: datetime | None
    last_leave: datetime | None  # None: never there, or still in
    seconds: int
    stays: int  # separate stays after merging

    @property
    def minutes(self) -> int:
        return (self.seconds + 30) // 60


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the register. ``status`` is set for expected participants only."""

    person: str
    name: str
    role: str
    presence: Presence
    status: str | None = None
    late: bool = False
    left_early: bool = False
    user_id: int | None = None

    @property
    def first_join(self) -> datetime | None:
        return self.presence.first_join

    @property
    def last_leave(self) -> datetime | None:
        return self.presence.last_leave

    @property
    def minutes(self) -> int:
        return self.presence.minutes


@dataclass(frozen=True, slots=True)
class Register:
    expected: list[Line]
    others: list[Line]

    def counts(self) -> dict[str, int]:
        """How many expected participants have each status (every status present, maybe 0)."""
        found = {status.value: 0 for status in RegisterStatus}
        for line in self.expected:
            found[line.status] += 1
        return found


def merge_intervals(
    intervals: Iterable[tuple[datetime, datetime]],
) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching intervals joined into one; sorted; empty ones dropped."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def truthful(sessions: Sequence[Session]) -> list[Session]:
    """The platform's reports when it made any for the room, else the portal's join rows."""
    reported = [session for session in sessions if session.reported]
    return reported or list(sessions)


def presence_of(
    sessions: Sequence[Session], *, start: datetime, end: datetime, until: datetime
) -> Presence:
    """One person's presence in the lesson ``start`` … ``end``; open stays run to ``until``."""
    spans = [(s.joined_at, s.left_at or max(until, s.joined_at), s.left_at) for s in sessions]
    touching = [
        (joined, left, closed) for joined, left, closed in spans if joined < end and left > start
    ]
    if not touching:
        return Presence(first_join=None, last_leave=None, seconds=0, stays=0)
    stays = merge_intervals((joined, left) for joined, left, _closed in touching)
    inside = merge_intervals((max(a, start), min(b, end)) for a, b in stays)
    still_in = any(closed is None for _joined, _left, closed in touching)
    return Presence(
        first_join=min(joined for joined, _left, _closed in touching),
        last_leave=None if still_in else max(closed for _j, _l, closed in touching),
        seconds=int(sum((b - a).total_seconds() for a, b in inside)),
        stays=len(stays),
    )


def status_of(presence: Presence, *, start: datetime, end: datetime, rules: Rules) -> tuple:
    """``(status, late, left_early)``; a late arrival who also left early is ``late`` with the
    ``left_early`` flag set, so both facts reach the report."""
    if presence.first_join is None or presence.seconds == 0:
        return RegisterStatus.ABSENT.value, False, False
    late = presence.first_join > start + rules.late_after
    left_early = (
        presence.last_leave is not None and presence.last_leave < end - rules.left_early_before
    )
    if late:
        return RegisterStatus.LATE.value, True, left_early
    if left_early:
        return RegisterStatus.LEFT_EARLY.value, False, True
    return RegisterStatus.PRESENT.value, False, False


def register_of(
    *,
    expected: Sequence[Expected],
    sessions: Sequence[Session],
    start: datetime,
    end: datetime,
    until: datetime,
    rules: Rules = Rules(),
) -> Register:
    """The register: every expected participant in ``expected``'s order, then everyone else who
    was there (teachers, observers, guests), by first join."""
    by_person: dict[str, list[Session]] = defaultdict(list)
    for session in truthful(sessions):
        by_person[session.person].append(session)
    lines = []
    for person in expected:
        presence = presence_of(by_person.pop(person.person, []), start=start, end=end, until=until)
        status, late, left_early = status_of(presence, start=start, end=end, rules=rules)
        lines.append(
            Line(
                person=person.person,
                name=person.name,
                role="",
                presence=presence,
                status=status,
                late=late,
                left_early=left_early,
                user_id=person.user_id,
            )
        )
    others = []
    for key, stays in by_person.items():
        presence = presence_of(stays, start=start, end=end, until=until)
        if presence.first_join is None:
            continue  # only in the room before or after the lesson
        latest = max(stays, key=lambda s: s.joined_at)
        others.append(Line(person=key, name=latest.name, role=latest.role, presence=presence))
    others.sort(key=lambda line: (line.first_join, line.name))
    return Register(expected=lines, others=others)


@dataclass(frozen=True, slots=True)
class Summary:
    """One student's lessons over a period (the per-student report)."""

    expected: int = 0
    attended: int = 0
    late: int = 0
    left_early: int = 0
    absent: int = 0
    minutes: int = 0

    def add(self, line: Line) -> "Summary":
        there = line.status != RegisterStatus.ABSENT
        return Summary(
            expected=self.expected + 1,
            attended=self.attended + there,
            late=self.late + line.late,
            left_early=self.left_early + line.left_early,
            absent=self.absent + (not there),
            minutes=self.minutes + line.minutes,
        )
