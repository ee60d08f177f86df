"""The Russian catalogue is complete, and its plural forms reach the screen."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "ru" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_russian_catalogue_has_no_untranslated_or_fuzzy_messages():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "translated message" in report, report
    assert "untranslated" not in report, report
    assert "fuzzy" not in report, report


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "1 минута"), (21, "21 минута"), (3, "3 минуты"), (11, "11 минут"), (25, "25 минут")],
)
def test_russian_plural_forms_follow_the_number(count, expected):
    with translation.override("ru"):
        text = translation.ngettext("%(n)d minute", "%(n)d minutes", count) % {"n": count}
    assert text == expected


def test_single_lesson_badge_is_not_plural():
    with translation.override("ru"):
        assert translation.gettext("Upcoming") != "Предстоящие"
        assert translation.gettext("Upcoming") != "Upcoming"
