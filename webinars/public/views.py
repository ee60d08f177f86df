"""Public HTML views (SPEC §6): the guest join page ``/join/<slug>/`` and "My lessons" ``/my/``.

Thin: parse the form, call one selector or service, render. Joining works without JavaScript:
a successful POST answers 302 to the Jitsi URL; a refusal re-renders the page with the reason
in words, in the visitor's language. Only the moderator's join renders a page with script: the
embedded room that starts file recording when the conference starts (SPEC §5).
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.throttling import SimpleRateThrottle

from webinars.choices import ClosedReason, JoinRole, RoomStatus
from webinars.lifecycle import room_window
from webinars.models import CalendarToken, Lesson, Recording, Room, Subject
from webinars.recordings import recording_playback_url, recording_public_url
from webinars.selectors.public_rooms import (
    room_for_public_page,
    room_latest_ready_recording,
    room_people,
)
from webinars.selectors.timetable import lessons_for_user
from webinars.services.joins import JoinRefused, room_join_public, room_join_user
from webinars.services.rooms import room_ensure_for_lesson

# --- Forms ------------------------------------------------------------------------------------


class GuestJoinForm(forms.Form):
    display_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=64,
        required=False,
        help_text=gettext_lazy(
            "Shown to the teacher and the other participants. Leave empty to appear as Guest."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if signed_in:
            del self.fields["display_name"]


class LessonFilterForm(forms.Form):
    """The open-lessons page's GET filter: subject and day (in the school's zone)."""

    subject = forms.ChoiceField(
        label=gettext_lazy("Subject"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a subject from the list.")},
    )
    day = forms.DateField(
        label=gettext_lazy("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Enter a date like 2026-09-01.")},
    )

    def __init__(self, *args, subjects=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The choices come from the list the page already loaded: no query of their own.
        self._subjects = {str(subject.pk): subject for subject in subjects}
        self.fields["subject"].choices = [("", _("All subjects"))] + [
            (key, subject.name) for key, subject in self._subjects.items()
        ]

    def clean_subject(self) -> Subject | None:
        return self._subjects.get(self.cleaned_data["subject"])


# --- Throttle for the HTML join form ----------------------------------------------------------


class GuestJoinThrottle(SimpleRateThrottle):
    """Per-IP limit on guest joins, sharing the API's ``public_join_ip`` rate and counter."""

    scope = "public_join_ip"
    cache_format = "throttle_%(scope)s_%(ident)s"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_ip(request: HttpRequest) -> str:
    """The caller's address, honouring ``NUM_PROXIES`` like DRF's throttles do."""
    return GuestJoinThrottle().get_ident(request)


# --- The join block: shared by /join/<slug>/ and MeetingPage ----------------------------------


@dataclass(frozen=True)
class Phase:
    """Where the room stands for a visitor: ``upcoming`` (with ``opens_at``), ``soon`` (the
    window is open but the lesson has not started), ``live``, ``ended`` or ``cancelled``."""

    name: str
    opens_at: datetime | None = None

    @property
    def joinable(self) -> bool:
        return self.name in {"soon", "live"}


def room_phase(*, room: Room, now: datetime | None = None) -> Phase:
    cancelled = room.closed_reason == ClosedReason.CANCELLED or (
        room.lesson_id is not None and room.lesson.is_cancelled
    )
    return _phase(
        start=room.scheduled_start,
        end=room.scheduled_end,
        status=room.status,
        cancelled=cancelled,
        now=now or timezone.now(),
    )


def _phase(*, start: datetime, end: datetime, status: str, cancelled: bool, now) -> Phase:
    if cancelled:
        return Phase("cancelled")
    opens, closes = room_window(start, end)
    if status == RoomStatus.CLOSED or now >= closes:
        return Phase("ended")
    if status == RoomStatus.OPEN or now >= start:
        return Phase("live")
    if now >= opens:
        return Phase("soon")
    return Phase("upcoming", opens_at=opens)


def _school_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def refusal_message(refusal) -> str:
    """A join refusal in words, in the visitor's language (never the API's raw JSON)."""
    code = getattr(refusal, "status_code", 400)
    opens_at = getattr(refusal, "opens_at", None)
    if code == 409:
        if opens_at:
            local = timezone.localtime(opens_at, timezone=_school_zone())
            when = formats.date_format(local, "j E, H:i")
            return _("The room is not open yet. It opens on %(when)s (%(zone)s).") % {
                "when": when,
                "zone": settings.TIME_ZONE,
            }
        return _("The room is not open yet.")
    if code == 410:
        if getattr(refusal, "rule", "") == "lesson_cancelled":
            return _("This lesson was cancelled.")
        return _("This session has ended and its room is closed.")
    if code == 429:
        return _("Too many join attempts from your network. Please wait a minute and try again.")
    if code == 403:
        return _("You may not join this room.")
    if code == 404:
        return _("This link is not valid (any more).")
    return _("Joining failed. Please try again.")


@dataclass(frozen=True)
class PublicRoomFacts:
    """What a join page shows that comes from the database: the room, its people, its
    newest READY recording."""

    room: Room
    people: list
    recording: Recording | None
    version: str = field(default_factory=lambda: secrets.token_hex(8))  # names its pages


def public_room_facts(*, slug: str, room: Room | None = None) -> PublicRoomFacts | None:
    """The join page's facts for ``slug`` (or for ``room``, already read), or None (404).

    With JOIN_PAGE_CACHE_SECONDS > 0 a GET reuses them that long per slug: then a status set
    by the scheduler, a regenerated slug or a new recording shows on the page up to that late.
    The phase (upcoming / soon / live / ended by the clock), the form, its CSRF token and the
    recording's (signed) URL are still made per request, and a POST always reads the room
    afresh. Unknown slugs are never cached. 0 (the default) reads the database every time.
    """
    seconds = settings.JOIN_PAGE_CACHE_SECONDS if room is None else 0
    key = f"portal:join-page:{slug}"
    facts = cache.get(key) if seconds else None
    if facts is not None:
        return facts
    room = room or room_for_public_page(slug=slug)
    if room is None:
        return None
    facts = PublicRoomFacts(
        room=room,
        people=room_people(room=room),
        recording=room_latest_ready_recording(room=room),
    )
    if seconds:
        cache.set(key, facts, seconds)
    return facts


def join_block_context(
    *,
    request: HttpRequest,
    room: Room,
    form: GuestJoinForm | None = None,
    error: str = "",
    now: datetime | None = None,
    facts: PublicRoomFacts | None = None,
) -> dict:
    """Everything ``includes/join_block.html`` shows: people, time, phase, form, recording."""
    signed_in = request.user.is_authenticated
    facts = facts or public_room_facts(slug=room.public_slug, room=room)
    recording = facts.recording
    video_url = None
    if recording is not None:
        video_url = recording_public_url(
            recording=recording, user=request.user if signed_in else None
        )
    return {
        "room": room,
        "people": facts.people,
        "phase": room_phase(room=room, now=now),
        "form": form or GuestJoinForm(signed_in=signed_in),
        "join_error": error,
        "recording": recording,
        "video_url": video_url,
        "join_action": reverse("webinars:join", kwargs={"slug": room.public_slug}),
    }


# --- /join/<slug>/ ----------------------------------------------------------------------------


@never_cache
def public_join(request: HttpRequest, slug: str) -> HttpResponse:
    """An open lesson's or open meeting's public page; POST joins (guest, or the signed-in
    user with their own role) and redirects to Jitsi."""
    if request.method == "POST":  # a join decides on the room as it is now
        room = room_for_public_page(slug=slug)
        facts = public_room_facts(slug=slug, room=room) if room is not None else None
    else:
        facts = public_room_facts(slug=slug)
    if facts is None:
        return render(request, "webinars/not_found.html", status=404)
    if settings.JOIN_PAGE_CACHE_SECONDS > 0 and _anonymous_plain_get(request):
        return _join_page_from_cache(request=request, facts=facts)
    room = facts.room
    signed_in = request.user.is_authenticated
    data = request.POST if request.method == "POST" else None
    form = GuestJoinForm(data, signed_in=signed_in)
    error, status_code = "", 200
    if request.method == "POST":
        if not GuestJoinThrottle().allow_request(request, None):
            error, status_code = refusal_message(_Refusal(429)), 429
        elif form.is_valid():
            outcome = _join(request=request, room=room, form=form)
            if isinstance(outcome, HttpResponse):
                return outcome
            error, status_code = outcome
        if form.errors and status_code == 200:
            status_code = 400
    context = join_block_context(request=request, room=room, form=form, error=error, facts=facts)
    return render(request, "webinars/join_page.html", context, status=status_code)


# Stands for the visitor's CSRF token in a cached join page. The same in every worker (the
# cache may be shared, e.g. Redis) and unguessable (derived from SECRET_KEY), so no page text
# can carry it.
_CSRF_PLACEHOLDER = "csrf-token-" + salted_hmac("join-page-csrf", "").hexdigest()[:32]


def _anonymous_plain_get(request: HttpRequest, *, params: tuple[str, ...] = ()) -> bool:
    """A GET by a guest with nothing of their own to show (no flash message), whose query
    string holds at most ``params`` — the requests a shared rendered page can answer."""
    return (
        request.method == "GET"
        and not request.user.is_authenticated
        and set(request.GET) <= set(params)
        and not messages.get_messages(request)
    )


def _shared_html(request: HttpRequest, *, key: str, seconds: int, render) -> HttpResponse:
    """A page rendered once per ``key`` and shared by guests for ``seconds``.

    Everything on it is the same for every guest but the CSRF token of its forms, which is
    rendered as a placeholder (``render(placeholder)``) and replaced per request by this
    visitor's own masked token, so the CSRF cookie and check work as on a fresh page.
    """
    html = cache.get(key)
    if html is None:
        html = render(_CSRF_PLACEHOLDER)
        cache.set(key, html, seconds)
    return HttpResponse(html.replace(_CSRF_PLACEHOLDER, get_token(request)))


def _join_page_from_cache(*, request: HttpRequest, facts: PublicRoomFacts) -> HttpResponse:
    """The guest join page, rendered once per facts, phase and language.

    The phase is in the key, so the page turns "live" on the minute; it lives no longer than
    the facts it shows.
    """
    phase = room_phase(room=facts.room)

    def render(csrf_token: str) -> str:
        context = join_block_context(request=request, room=facts.room, facts=facts)
        context.update(phase=phase, csrf_token=csrf_token)
        return render_to_string("webinars/join_page.html", context, request=request)

    return _shared_html(
        request,
        key=f"portal:join-html:{facts.version}:{phase.name}:{get_language()}",
        seconds=settings.JOIN_PAGE_CACHE_SECONDS,
        render=render,
    )


@dataclass(frozen=True)
class _Refusal:
    status_code: int
    rule: str = ""
    opens_at: datetime | None = None


def _join(
    *, request: HttpRequest, room: Room, form: GuestJoinForm
) -> HttpResponse | tuple[str, int]:
    """Join through the joins service: a response on success, else (error in words, status)."""
    ip = client_ip(request)
    try:
        if request.user.is_authenticated:
            result = room_join_user(room=room, user=request.user, ip=ip)
        else:
            result = room_join_public(
                slug=room.public_slug, display_name=form.cleaned_data["display_name"], ip=ip
            )
    except JoinRefused as refusal:
        return refusal_message(refusal), refusal.status_code
    except (DjangoValidationError, ApiValidationError) as exc:
        field = "display_name" if "display_name" in form.fields else None
        for message in _display_name_errors(exc):
            form.add_error(field, message)
        return "", 400
    return _after_join(request=request, result=result)


def _display_name_errors(exc) -> list[str]:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return [m for msgs in exc.message_dict.values() for m in msgs]
        return list(exc.messages)
    detail = exc.detail
    if isinstance(detail, dict):
        return [
            str(m) for msgs in detail.values() for m in (msgs if isinstance(msgs, list) else [msgs])
        ]
    return [str(m) for m in (detail if isinstance(detail, list) else [detail])]


def _after_join(*, request: HttpRequest, result) -> HttpResponse:
    """Moderators get the embedded room (it starts the recording); everyone else goes to
    Jitsi directly with a 302."""
    if result.you_are == JoinRole.MODERATOR:
        response = render(request, "webinars/room_embed.html", embed_context(result=result))
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    return redirect(result.join_url)


def embed_context(*, result) -> dict:
    """What the moderator's embedded room needs, as the room's video platform describes it."""
    embed = result.room.provider.embed(room=result.room, link=result.link)
    return {
        "room": result.room,
        "join_url": result.join_url,
        "jitsi_domain": embed.domain,
        "jitsi_room_name": embed.room_name,
        "jitsi_jwt": embed.jwt,
        "external_api_url": embed.script_url,
        "start_recording": embed.start_recording,
        "expires_at": result.expires_at,
    }


# --- /my/ -------------------------------------------------------------------------------------


@never_cache
@login_required
def my_lessons(request: HttpRequest) -> HttpResponse:
    """The signed-in user's upcoming lessons (role + Join) and recent past ones with recordings.

    ``lessons_for_user`` returns exactly the lessons whose audience (SPEC §4) includes the
    user, so their recordings are playable without a per-recording permission check.
    """
    now = timezone.now()
    mine = lessons_for_user(user=request.user, now=now)
    for lesson in mine.past:
        room = lesson.room if _has_room(lesson) else None
        lesson.videos = []
        for recording in getattr(room, "ready_recordings", []):
            recording.room = room
            url = recording_playback_url(recording=recording, public=lesson.is_open)
            lesson.videos.append((recording, url))
    for lesson in mine.upcoming:
        room = lesson.room if _has_room(lesson) else None
        lesson.phase = room_phase(room=room, now=now) if room else _lesson_phase(lesson, now)
    context = {
        "upcoming": mine.upcoming,
        "past": mine.past,
        "calendar_url": _calendar_url(request),
        "now": now,
    }
    return render(request, "webinars/my_lessons.html", context)


def _has_room(lesson: Lesson) -> bool:
    try:
        return lesson.room is not None
    except Room.DoesNotExist:
        return False


def _lesson_phase(lesson: Lesson, now: datetime) -> Phase:
    """A lesson whose room the scheduler has not created yet: same rules as a room's."""
    return _phase(
        start=lesson.scheduled_start,
        end=lesson.scheduled_end,
        status=RoomStatus.SCHEDULED,
        cancelled=lesson.is_cancelled,
        now=now,
    )


def _calendar_url(request: HttpRequest) -> str | None:
    """The personal iCal subscription (SPEC §6), when the calendar API is installed."""
    token, _created = CalendarToken.objects.get_or_create(user=request.user)
    try:
        path = reverse("api-calendar-personal", kwargs={"token": token.token})
    except NoReverseMatch:
        path = f"/api/calendar/{token.token}.ics"
    return request.build_absolute_uri(path)


@require_POST
@login_required
def my_join(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """The Join button of /my/: the lesson's room (created if due), then the user's own role.

    A lesson whose window has not begun keeps its room uncreated (SPEC §3: the scheduler or a
    forced API call creates it early, not a button): the answer is "opens at" straight away.
    """
    lesson = get_object_or_404(Lesson.objects.select_related("subject"), pk=lesson_id)
    room = Room.objects.filter(lesson=lesson).first()
    if room is None:
        opens_at, _closes_at = room_window(lesson.scheduled_start, lesson.scheduled_end)
        if timezone.now() < opens_at:
            early = _Refusal(409, opens_at=opens_at)
            messages.error(request, f"{lesson.title}: {refusal_message(early)}")
            return redirect("webinars:my")
        room, _created = room_ensure_for_lesson(lesson=lesson)
    try:
        result = room_join_user(room=room, user=request.user, ip=client_ip(request))
    except JoinRefused as refusal:
        messages.error(request, f"{lesson.title}: {refusal_message(refusal)}")
        return redirect("webinars:my")
    return _after_join(request=request, result=result)


OPEN_LESSONS_PAGE_CACHE_KEY = "portal:open-lessons-page"


def open_lessons_page(request: HttpRequest) -> HttpResponse:
    """``/open-lessons/`` served without Wagtail's tree walk and per-request restriction check.

    The page is the same object for everyone: the live, unrestricted OpenLessonsPage at this
    URL is looked up once per OPEN_LESSONS_CACHE_SECONDS (Wagtail's routing was three quarters
    of the page's cost), and guests share its rendering per language and filter as long (the
    lists it shows are cached that long anyway). Anything else — a renamed or private page, a
    second site, a preview — goes through Wagtail's own ``serve`` exactly as before.
    """
    from wagtail.views import serve as wagtail_serve

    from webinars.pages import OpenLessonsPage

    page = cache.get(OPEN_LESSONS_PAGE_CACHE_KEY)
    if page is None:
        page = OpenLessonsPage.objects.live().public().first() or False
        if page and page.get_url(request) != request.path:
            page = False
        cache.set(OPEN_LESSONS_PAGE_CACHE_KEY, page, settings.OPEN_LESSONS_CACHE_SECONDS)
    if not page:
        return wagtail_serve(request, request.path)
    seconds = settings.OPEN_LESSONS_CACHE_SECONDS
    if seconds <= 0 or not _anonymous_plain_get(request, params=("subject", "day")):
        return page.serve(request)

    def render(csrf_token: str) -> str:
        response = page.serve(request)
        response.context_data["csrf_token"] = csrf_token
        return response.render().content.decode()

    variant = (page.last_published_at, request.GET.get("subject", ""), request.GET.get("day", ""))
    digest = hashlib.sha256(repr(variant).encode()).hexdigest()[:24]
    return _shared_html(
        request,
        key=f"portal:open-lessons-html:{page.pk}:{get_language()}:{digest}",
        seconds=seconds,
        render=render,
    )
