"""The Russian catalogue is complete (every message the code uses has its entry), and its
plural forms reach the screen."""

import os
import re
import shutil
import subprocess
import sys
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


def _catalogue_after_makemessages(tree: Path, *, extra: dict[str, str] | None = None) -> Path:
    """The Russian catalogue as ``makemessages`` rebuilds it from a copy of the repository's
    files in ``tree`` (plus ``extra`` files), so the real catalogue is never rewritten."""
    root = CATALOGUE.parents[3]
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        source = root / name
        if source.suffix in {".py", ".html", ".txt", ".po"} and source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tree / name)
    for name, text in (extra or {}).items():
        (tree / name).write_text(text)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ru", "--no-obsolete"],
        cwd=tree,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        capture_output=True,
        check=True,
    )
    return tree / CATALOGUE.relative_to(root)


def _missing(po: Path) -> list[str]:
    """msgids without a (non-fuzzy) Russian entry: msgmerge guesses a new message's translation
    from a similar one and marks it fuzzy, which is as good as missing."""
    found = []
    for option in ("--untranslated", "--only-fuzzy"):
        out = subprocess.run(
            ["msgattrib", option, "--no-obsolete", str(po)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found += [m for m in re.findall(r'^msgid "(.*)"$', out, re.M) if m]
    return found


@pytest.mark.skipif(shutil.which("msgattrib") is None, reason="gettext's tools are not installed")
def test_every_message_the_code_uses_has_its_russian_entry(tmp_path):
    assert _missing(_catalogue_after_makemessages(tmp_path)) == []


@pytest.mark.skipif(shutil.which("msgattrib") is None, reason="gettext's tools are not installed")
def test_a_new_message_without_a_russian_entry_is_found(tmp_path):
    """The check above can fail: a new ``_("…")`` with no entry in the catalogue is named."""
    new = "from django.utils.translation import gettext as _\n\n_('A sentence nobody translated')\n"
    catalogue = _catalogue_after_makemessages(tmp_path, extra={"webinars/new_words.py": new})
    assert _missing(catalogue) == ["A sentence nobody translated"]
