"""Reading the school's spreadsheets: CSV or XLSX through tablib, one row at a time.

Both imports (``timetable`` and ``people`` beside this module) follow the same rules,
told to the school in ``docs/imports.md``: header names in any order, rows numbered as the
spreadsheet shows them (the header is row 1), every bad cell reported as
``row 7, teacher: no teacher "x"``, and nothing written unless every row is good.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import tablib
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

# ISO weekday of every name a school file may use: English and Russian, short and long.
WEEKDAY_NAMES = {
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 1)},
    **{
        name: n
        for n, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), 1
        )
    },
    **{name: n for n, name in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"), 1)},
    **{
        name: n
        for n, name in enumerate(
            ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"),
            1,
        )
    },
}
YES = {"yes", "y", "true", "1", "да", "д"}
NO = {"no", "n", "false", "0", "нет", "н", ""}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or with bad rows, would have done)."""

    dry_run: bool = False
    written: bool = False
    errors: list[RowError] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self) -> str:
        return "\n".join([*self.lines, *(str(error) for error in self.errors), self.verdict()])

    def verdict(self) -> str:
        if self.errors:
            return _("%(count)s bad rows: nothing was written.") % {"count": self.bad_rows}
        if self.dry_run:
            return _("Dry run: nothing was written.")
        return _("Written.")

    @property
    def bad_rows(self) -> int:
        return len({error.row for error in self.errors})


@dataclass
class Sheet:
    """The rows of a file: ``rows`` are ``(row number, {column: cell})`` without empty rows."""

    columns: list[str]
    rows: list[tuple[int, dict]]


def sheet_read(
    *, content: bytes, filename: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Sheet:
    """Load a CSV (comma, semicolon or tab separated, UTF-8) or XLSX file with tablib."""
    suffix = Path(filename).suffix.lower()
    try:
        if suffix == ".xlsx":
            dataset = tablib.Dataset().load(io.BytesIO(content), format="xlsx")
        elif suffix in (".csv", ".txt"):
            text = content.decode("utf-8-sig")
            dataset = tablib.Dataset().load(text, format="csv", delimiter=_delimiter(text))
        else:
            raise ImportFileError(
                _('Use a .csv or .xlsx file, not "%(name)s".') % {"name": filename}
            )
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The CSV file is not UTF-8 text; save it as “CSV UTF-8”.")
        ) from error
    except tablib.InvalidDimensions as error:
        raise ImportFileError(_("A row has more cells than the header has columns.")) from error
    except ImportFileError:
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure means an unreadable file
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": error}) from error
    columns = [_column_name(heading) for heading in dataset.headers or []]
    missing = [name for name in required if name not in columns]
    unknown = [name for name in columns if name and name not in required + optional]
    errors = [RowError(1, name, _("missing column")) for name in missing]
    errors += [RowError(1, name, _("unknown column")) for name in unknown]
    if errors:
        raise SheetHeaderError(errors)
    rows = []
    for number, values in enumerate(dataset, start=2):
        cells = dict(zip(columns, values, strict=False))
        if any(cell_text(value) for value in cells.values()):
            rows.append((number, cells))
    return Sheet(columns=columns, rows=rows)


class SheetHeaderError(ImportFileError):
    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def _delimiter(text: str) -> str:
    """Spreadsheets saved in Russian or German locales separate CSV cells with semicolons."""
    try:
        return csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _column_name(heading) -> str:
    return cell_text(heading).lower().replace(" ", "_")


# --- Cells --------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text: spreadsheets hand numbers back as floats (``12.0`` → ``"12"``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_weekday(value) -> int:
    text = cell_text(value)
    key = text.lower().rstrip(".")
    if key.isdigit() and 1 <= int(key) <= 7:
        return int(key)
    if key in WEEKDAY_NAMES:
        return WEEKDAY_NAMES[key]
    raise ValueError(_('"%(value)s" is not a weekday (Mon…Sun, Пн…Вс or 1–7)') % {"value": text})


def parse_time(value) -> time:
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    text = cell_text(value)
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).time().replace(second=0)
        except ValueError:
            continue
    raise ValueError(_('"%(value)s" is not a time (HH:MM)') % {"value": text})


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_('"%(value)s" is not a date (YYYY-MM-DD or DD.MM.YYYY)') % {"value": text})


def parse_yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(_('"%(value)s" is not yes or no') % {"value": text})


def parse_list(value) -> list[str]:
    """``"anna; boris"`` → ``["anna", "boris"]`` (semicolons or commas)."""
    text = cell_text(value).replace(",", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


# --- People named in a file ---------------------------------------------------------------


class PeopleIndex:
    """Users named in a file by username or email, looked up in one query (case-insensitive).

    A username wins over an email; an email shared by several accounts is ambiguous.
    """

    def __init__(self, names: Iterable[str]):
        lowered = {name.lower() for name in names if name}
        self._by_username: dict[str, object] = {}
        self._by_email: dict[str, list] = defaultdict(list)
        if not lowered:
            return
        users = (
            get_user_model()
            .objects.annotate(login=Lower("username"), mail=Lower("email"))
            .filter(Q(login__in=lowered) | Q(mail__in=lowered))
        )
        for user in users:
            self._by_username[user.login] = user
            if user.mail:
                self._by_email[user.mail].append(user)

    def add(self, user) -> None:
        """Make a user created by this import findable by the rows after it."""
        self._by_username[user.get_username().lower()] = user
        if user.email:
            self._by_email[user.email.lower()].append(user)

    def find(self, name: str):
        """The user called ``name``, None if nobody is; ValueError if the email is ambiguous."""
        key = name.lower()
        if key in self._by_username:
            return self._by_username[key]
        matches = self._by_email.get(key, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ValueError(
                _('several people have the email "%(email)s"; use the username') % {"email": name}
            )
        return None
