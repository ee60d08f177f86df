"""Every screen, in English and in Russian, as the school's people see them (issue 15).

One walk per language over the demo school (``seed_demo``, then the scheduler's tick): the
public pages as a guest, ``/my/`` and the home page signed in as a teacher, a student, a
parent and a member of the leadership, the teacher's room, and the main admin screens as the
administrator. Each screen is written full-page to ``artifacts/screenshots/<lang>/<name>.png``.

The language is chosen as people choose it: a visitor with the header's language switch (its
cookie), the administrator in their account's preferences (Wagtail's
``UserProfile.preferred_language``, which the admin follows whatever the cookie says). The
school itself runs in that language (``LANGUAGE_CODE``), so the demo's page titles follow it.

Checked on every screen: axe-core finds nothing on the public pages and ``/my/``; a Russian
screen holds no English interface text — none of the catalogue's English messages of two words
or more, and none of Wagtail's own interface words — once the data (people's names, lesson
titles, subjects, classes) is taken out.
"""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import SCREENSHOTS, axe_violations
from tests.browser.test_public_pages import home_page
from tests.factories import make_recording
from webinars.choices import RecordingStatus, RoomStatus
from webinars.management.commands.seed_demo import DEMO_PASSWORD, Command
from webinars.models import Lesson, LessonSeries, Room, SchoolClass, Subject
from webinars.pages import MeetingPage
from webinars.tasks import maintain_rooms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES" / "django.po"

# Wagtail's own interface words that its Russian catalogue translates: one left on a Russian
# admin screen means a screen of ours bypassed the translation machinery.
WAGTAIL_WORDS = [
    "Dashboard",
    "Search",
    "Reports",
    "Settings",
    "Help",
    "Account",
    "Log out",
    "Sign in",
    "Password",
    "Username",
    "Forgotten password?",
    "Remember me",
    "Edit",
    "Inspect",
    "Delete",
    "Export",
    "Download CSV",
    "Download XLSX",
    "Filter",
    "Filters",
    "Sort by",
    "Actions",
    "Save",
    "Cancel",
    "Choose",
    "Add",
    "More",
    "Pages",
    "Images",
    "Documents",
    "Snippets",
    "Users",
    "Groups",
    "Previous",
    "Next",
    "Page",
    "Yes",
    "No",
    "None",
]


def catalogue_phrases() -> list[str]:
    """The catalogue's English messages of two words or more, cut at their placeholders, whose
    Russian differs: the literal runs of two words or more that a Russian page must not hold."""
    text = CATALOGUE.read_text(encoding="utf-8")
    phrases = set()
    for block in text.split("\n\n"):
        ids = _po_field(block, "msgid")
        strs = _po_field(block, "msgstr") or _po_field(block, r"msgstr\[0\]")
        if not ids or ids == strs:
            continue
        for run in re.split(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}|\{\w*\}|\\n", ids):
            run = run.strip(" .,:;!?()«»\"'—–-")
            if len(run.split()) >= 2:
                phrases.add(run)
    return sorted(phrases, key=len, reverse=True)


def _po_field(block: str, name: str) -> str:
    found = re.search(rf'^{name} "(.*)"\n((?:".*"\n?)*)', block + "\n", re.M)
    if not found:
        return ""
    rest = re.findall(r'^"(.*)"$', found.group(2), re.M)
    return (found.group(1) + "".join(rest)).replace('\\"', '"')


def data_strings() -> list[str]:
    """What the demo school holds that is data, not interface: longest first."""
    found = set()
    for user in User.objects.all():
        found.update({user.get_full_name(), user.username, user.first_name, user.last_name})
        found.add(user.email)
    found.update(Lesson.objects.values_list("title", flat=True))
    found.update(LessonSeries.objects.values_list("title", flat=True))
    found.update(Subject.objects.values_list("name", flat=True))
    found.update(Subject.objects.values_list("code", flat=True))
    found.update(SchoolClass.objects.values_list("name", flat=True))
    found.update(Room.objects.values_list("jitsi_room", flat=True))
    found.update(Room.objects.values_list("public_slug", flat=True))
    return sorted((s for s in found if s), key=len, reverse=True)


def english_left(text: str, phrases: list[str], data: list[str]) -> list[str]:
    for item in data:
        text = text.replace(item, " ")
    text = re.sub(r"\S+://\S+|\S+@\S+|/\S*", " ", text)  # addresses, paths
    found = [phrase for phrase in phrases if phrase in text]
    found += [w for w in WAGTAIL_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    return found


class Walk:
    """Visits screens in one language: screenshot, axe (public pages), no English (Russian)."""

    def __init__(self, page, base: str, lang: str):
        self.page, self.base, self.lang = page, base, lang
        self.folder = SCREENSHOTS / lang
        self.folder.mkdir(parents=True, exist_ok=True)
        self.phrases = catalogue_phrases()
        self.problems: list[str] = []

    def visit(self, name: str, url: str | None = None, *, axe: bool = False) -> None:
        if url is not None:
            self.page.goto(self.base + url)
        self.page.wait_for_load_state("networkidle")
        self.check(name, axe=axe)

    def check(self, name: str, *, axe: bool = False) -> None:
        page = self.page
        assert page.locator("html").get_attribute("lang") == self.lang, name
        self.screenshot(name)
        if axe:
            for v in axe_violations(page):
                self.problems.append(f"{name}: axe {v['id']}: {v['help']} {v['nodes'][:3]}")
        if self.lang == "ru":
            text = page.evaluate("document.body.innerText")
            for phrase in english_left(text, self.phrases, data_strings()):
                self.problems.append(f"{name}: English left: {phrase!r}")

    def screenshot(self, name: str) -> None:
        """The whole screen: Wagtail's admin scrolls inside its own panes, so the window is first
        made as tall as the tallest of them (a full-page shot alone would stop at the fold)."""
        page = self.page
        size = page.viewport_size
        tallest = page.evaluate(
            "Math.max(...Array.from(document.querySelectorAll('body, body *'),"
            " e => e.scrollHeight))"
        )
        if tallest > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": min(tallest, 8000)})
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        page.set_viewport_size(size)
        if self.lang != "en":  # what the Russian check read, beside the picture
            text = page.evaluate("document.body.innerText")
            (self.folder / f"{name}.txt").write_text(text, encoding="utf-8")

    def sign_in(self, username: str, next_url: str = "/my/") -> None:
        page = self.page
        page.goto(f"{self.base}/admin/login/?next={next_url}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{self.base}{next_url}")

    def sign_out(self) -> None:
        self.page.goto(self.base + "/")
        self.page.locator("form.account button[type=submit]").click()
        self.page.wait_for_url(f"{self.base}/")


def demo_school(settings, lang: str) -> None:
    """The run command's demo school, in the school's language, after one scheduler tick;
    one past lesson has a ready recording."""
    settings.LANGUAGE_CODE = lang
    home_page()
    Command(stdout=io.StringIO()).handle()
    maintain_rooms()
    past = Lesson.objects.filter(scheduled_end__lt=timezone.now() - timedelta(hours=1)).first()
    from webinars.services.rooms import room_ensure_for_lesson

    room, _ = room_ensure_for_lesson(lesson=past)
    Room.objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED)
    recording = make_recording(room, status=RecordingStatus.READY, duration_secs=5)
    recording.file.save("demo.webm", ContentFile(b"\x1aE\xdf\xa3"), save=True)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_screen_reads_in_the_visitors_language(lang, offline, live_server, settings):
    demo_school(settings, lang)
    page = offline
    walk = Walk(page, live_server.url, lang)

    page.goto(live_server.url + "/")
    if lang != "en":  # the browser asks for English: the visitor picks the language
        page.locator("#language-select").select_option(lang)
        page.locator("form.language-switch button[type=submit]").click()
        page.wait_for_load_state()

    # A guest.
    walk.visit("home", axe=True)
    walk.visit("open-lessons", "/open-lessons/", axe=True)
    live_open = Room.objects.filter(lesson__is_open=True, status=RoomStatus.OPEN).first()
    assert live_open is not None, "the demo has an open lesson live now"
    walk.visit("join-page", f"/join/{live_open.public_slug}/", axe=True)
    recorded = Room.objects.filter(recordings__status=RecordingStatus.READY).first()
    if recorded.lesson.is_open:
        walk.visit("join-page-recording", f"/join/{recorded.public_slug}/", axe=True)
    meeting = MeetingPage.objects.live().first()
    walk.visit("meetings", meeting.get_parent().url, axe=True)
    walk.visit("meeting-page", meeting.url, axe=True)
    walk.visit("sign-in", "/admin/login/?next=/my/", axe=True)

    # The school's people: their home page and /my/.
    people = {
        "teacher": Lesson.objects.filter(room__status=RoomStatus.OPEN, is_open=False)
        .values_list("teacher__username", flat=True)
        .first(),
        "student": "student01",
        "parent": "parent01",
        "leadership": "director",
    }
    for role, username in people.items():
        walk.sign_in(username)
        walk.visit(f"my-{role}", axe=True)
        walk.visit(f"home-{role}", "/", axe=True)
        if role == "teacher":
            walk.visit("my-teacher", "/my/")
            page.locator("form[action*='/my/join/'] button[type=submit]").first.click()
            page.wait_for_function("window.__jitsi && window.__jitsi.calls.length > 0")
            walk.check("teacher-room", axe=True)
        walk.sign_out()

    # The administrator, who picks the admin's language in their account.
    walk.sign_in("admin", "/admin/")
    page.goto(f"{live_server.url}/admin/account/")
    page.locator("select[name='locale-preferred_language']").select_option(lang)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    lesson = Lesson.objects.filter(room__status=RoomStatus.OPEN).first()
    room = lesson.room
    for name, url in [
        ("admin-dashboard", reverse("wagtailadmin_home")),
        ("admin-lessons", reverse("lessons:index")),
        ("admin-lesson-edit", reverse("lessons:edit", args=[lesson.pk])),
        ("admin-rooms", reverse("rooms:index")),
        ("admin-room-inspect", reverse("rooms:inspect", args=[room.pk])),
        ("admin-recordings", reverse("recordings:index")),
        ("admin-join-decisions", reverse("join_decisions:index")),
        ("admin-attendance", reverse("attendance:index")),
        ("admin-register", reverse("webinars_register_report")),
        ("admin-notices", reverse("notices:index")),
    ]:
        walk.visit(name, url)

    assert walk.problems == [], "\n".join(walk.problems)
