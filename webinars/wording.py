"""The school's words for what the system stores as codes: rules, outcomes, durations, details.

One place, so the admin's lists, inspect pages, exports and the dashboard say the same thing
in both languages. Nothing here reads the database or a request.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from webinars.roles import Rule
from webinars.timezones import school_time

# Why a join was granted or refused, one sentence per ``webinars.roles.Rule`` (docs/roles.md).
RULE_WORDS: Mapping[str, str] = {
    Rule.LESSON_TEACHER: _("Teaches this lesson"),
    Rule.LESSON_CO_TEACHER: _("Co-teaches this lesson"),
    Rule.ENROLLED_STUDENT: _("Enrolled in the lesson's subject"),
    Rule.PARENT_OF_ENROLLED: _("Parent of a student enrolled in the subject"),
    Rule.SCHOOL_STAFF: _("School staff, watching"),
    Rule.OPEN_LESSON_SIGNED_IN: _("Open lesson, signed in"),
    Rule.OPEN_LESSON_PUBLIC_LINK: _("Open lesson, through its public link"),
    Rule.CLOSED_LESSON_OUTSIDER: _("Not an open lesson, and not its class, parent or staff"),
    Rule.CLOSED_LESSON_ANONYMOUS: _("Not an open lesson, and not signed in"),
    Rule.ANONYMOUS_WITHOUT_LINK: _("Not signed in, and not through the public link"),
    Rule.MEETING_HOST: _("Hosts this meeting"),
    Rule.OPEN_MEETING_GUEST: _("Open meeting, anyone may watch"),
    Rule.STAFF_MEETING_STAFF: _("Staff meeting, school staff"),
    Rule.STAFF_MEETING_OUTSIDER: _("Staff meeting, not school staff"),
    Rule.PUBLIC_LINK_UNKNOWN: _("Unknown or replaced public link"),
    Rule.PUBLIC_LINK_NOT_OPEN: _("Public link of a room that is not open"),
    Rule.LESSON_CANCELLED: _("The lesson was cancelled"),
    Rule.ROOM_CLOSED: _("The room was already closed"),
    Rule.BEFORE_WINDOW: _("Too early: the room was not open yet"),
    Rule.AFTER_WINDOW: _("Too late: the room's time was over"),
}

RULE_CHOICES = sorted(RULE_WORDS.items(), key=lambda item: str(item[1]))


def rule_in_words(rule: str) -> str:
    """The sentence for ``rule``; a code no longer in the table is shown as stored."""
    return str(RULE_WORDS.get(rule, rule))


# A join's answer: 200 lets the person in, the others are the refusals' HTTP statuses.
STATUS_WORDS: Mapping[int, str] = {
    200: _("allowed"),
    400: _("refused: the request was incomplete"),
    403: _("refused: not allowed"),
    404: _("refused: not found"),
    409: _("refused: too early"),
    410: _("refused: closed"),
    429: _("refused: too many attempts"),
}


def status_in_words(status_code: int) -> str:
    if status_code in STATUS_WORDS:
        return str(STATUS_WORDS[status_code])
    return str(_("refused (HTTP %(code)s)") % {"code": status_code})


def decision_in_words(*, granted: bool, role_label: str, status_code: int) -> str:
    """A join decision in one phrase: "allowed as observer", "refused: too early"."""
    if granted:
        return str(_("allowed as %(role)s") % {"role": str(role_label).lower()})
    return status_in_words(status_code)


def yes_no(value) -> str:
    return str(_("Yes") if value else _("No"))


def zoned(value: datetime | None, *, seconds: bool = False) -> str:
    """``2026-12-01 20:25 (Europe/Amsterdam)``: the school's wall clock, zone named."""
    if value is None:
        return "—"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{school_time(value, fmt)} ({settings.TIME_ZONE})"


def duration_in_words(seconds: int | None) -> str:
    """A recording's length as a person says it: "5 seconds", "1 minute", "1 h 05 min"."""
    seconds = max(0, int(seconds or 0))
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return str(_("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60})


def person_in_words(user, fallback: str = "") -> str:
    """A person by name with the login in brackets: "Anna Ivanova (teacher1)"."""
    if user is None:
        return fallback or str(_("Guest"))
    name = user.get_full_name().strip()
    return f"{name} ({user.get_username()})" if name else user.get_username()


# --- A recording's details (``Recording.meta``) -------------------------------------------

RECORDING_SOURCES: Mapping[str, str] = {
    "jibri": _("Jibri (the school's own recorder)"),
    "jaas": _("JaaS (8x8)"),
    "jitsi": _("Jitsi"),
}


def _at(value: str) -> str:
    try:
        return zoned(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def _attempts(value) -> str:
    limit = settings.RECORDING_DOWNLOAD_ATTEMPTS
    return str(_("%(done)s of %(limit)s") % {"done": value, "limit": limit})


def _history(value) -> str:
    return "; ".join(
        f"{_at(item.get('at', ''))}: {item.get('error', '')}"
        for item in value
        if isinstance(item, Mapping)
    )


# (meta key, label, how to say the value) — in the order an administrator reads them.
_RECORDING_DETAILS: list[tuple[str, str, Callable]] = [
    ("source", _("Came from"), lambda v: str(RECORDING_SOURCES.get(v, v))),
    ("error", _("Last error"), str),
    ("attempts", _("Download attempts"), _attempts),
    ("next_attempt_at", _("Next attempt"), _at),
    ("url_host", _("Downloaded from"), str),
    ("local_path", _("Recorder's file"), str),
    ("ext", _("File type"), lambda v: str(v).upper()),
    ("errors", _("Earlier errors"), _history),
]
_TECHNICAL = {"url", "jibri_metadata"}  # long or secret-bearing (signed links): not shown


def recording_details(meta: Mapping) -> list[tuple[str, str]]:
    """``(label, words)`` for what a recording's ``meta`` says, known keys first; the
    platform's ids and keys last, as "Platform ids"."""
    meta = meta or {}
    rows = [
        (str(label), say(meta[key]))
        for key, label, say in _RECORDING_DETAILS
        if meta.get(key) not in (None, "", [])
    ]
    known = {key for key, _label, _say in _RECORDING_DETAILS} | _TECHNICAL
    ids = [f"{key}: {value}" for key, value in meta.items() if key not in known and value]
    if ids:
        rows.append((str(pgettext_lazy("recording details", "Platform ids")), ", ".join(ids)))
    return rows
