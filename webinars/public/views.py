"""Public HTML views: the guest join page ``/join/<slug>/``, "My lessons" ``/my/`` and the fast
route to the open-lessons page (docs/public-pages.md).

Thin: parse the form, call one selector or service, render. Joining works without JavaScript:
a successful POST answers 302 to the Jitsi URL; a refusal re-renders the page with the reason
in words, in the visitor's language. Only the moderator's join renders a page with script: the
embedded room that starts file recording when the conference starts.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.throttling import SimpleRateThrottle
from wagtail.views import serve as wagtail_serve

from webinars.choices import JoinRole
from webinars.lifecycle import room_window
from webinars.models import CalendarToken, Lesson, Room
from webinars.pages import OpenLessonsPage
from webinars.public import caching
from webinars.public.forms import GuestJoinForm
from webinars.public.join_block import (
    PublicRoomFacts,
    Refusal,
    embed_context,
    join_block_context,
    lesson_phase,
    public_room_facts,
    refusal_message,
    room_facts,
    room_phase,
)
from webinars.public.preferences import preferences_form_for
from webinars.recordings import recording_playback_url
from webinars.selectors.public_rooms import room_for_public_page
from webinars.selectors.register import my_lessons_registers
from webinars.selectors.timetable import lessons_for_user
from webinars.services.joins import JoinRefused, room_join_public, room_join_user
from webinars.services.rooms import room_ensure_for_lesson


class GuestJoinThrottle(SimpleRateThrottle):
    """Per-IP limit on guest joins, sharing the API's ``public_join_ip`` rate and counter."""

    scope = "public_join_ip"
    cache_format = "throttle_%(scope)s_%(ident)s"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_ip(request: HttpRequest) -> str:
    """The caller's address, honouring ``NUM_PROXIES`` like DRF's throttles do."""
    return GuestJoinThrottle().get_ident(request)


# --- /join/<slug>/ ----------------------------------------------------------------------------


@never_cache
def public_join(request: HttpRequest, slug: str) -> HttpResponse:
    """An open lesson's or open meeting's public page; POST joins (guest, or the signed-in
    user with their own role) and redirects to Jitsi."""
    if request.method == "POST":
        return _join_post(request, slug=slug)
    facts = public_room_facts(slug=slug)
    if facts is None:
        return _not_found(request)
    phase = room_phase(room=facts.room)
    return caching.join_page(
        request,
        facts_version=facts.version,
        phase=phase.name,
        render=lambda extra: _join_page_html(request, facts=facts, phase=phase, **extra),
    )


def _join_post(request: HttpRequest, *, slug: str) -> HttpResponse:
    room = room_for_public_page(slug=slug)  # a join decides on the room as it is now
    if room is None:
        return _not_found(request)
    form = GuestJoinForm(request.POST, signed_in=request.user.is_authenticated)
    if not GuestJoinThrottle().allow_request(request, None):
        error, status = refusal_message(Refusal(429)), 429
    elif form.is_valid():
        outcome = _join(request=request, room=room, form=form)
        if isinstance(outcome, HttpResponse):
            return outcome
        error, status = outcome
    else:
        error, status = "", 400
    html = _join_page_html(request, facts=room_facts(room=room), form=form, error=error)
    return HttpResponse(html, status=status)


def _join_page_html(
    request: HttpRequest, *, facts: PublicRoomFacts, form=None, error: str = "", **extra
) -> str:
    context = join_block_context(
        request=request, room=facts.room, form=form, error=error, facts=facts
    )
    context.update(extra)
    return render_to_string("webinars/join_page.html", context, request=request)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "webinars/not_found.html", status=404)


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
        form.add_join_errors(exc)
        return "", 400
    return _after_join(request=request, result=result)


def _after_join(*, request: HttpRequest, result) -> HttpResponse:
    """Moderators get the embedded room (it starts the recording); everyone else goes to
    Jitsi directly with a 302."""
    if result.you_are == JoinRole.MODERATOR:
        response = render(request, "webinars/room_embed.html", embed_context(result=result))
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    return redirect(result.join_url)


# --- /my/ -------------------------------------------------------------------------------------


@never_cache
@login_required
def my_lessons(request: HttpRequest) -> HttpResponse:
    """The signed-in user's upcoming lessons (role + Join; cancelled ones marked) and recent past
    ones with recordings; teachers see each past lesson's register, parents which child each
    lesson is for and, after it, that child's status.

    ``lessons_for_user`` returns exactly the lessons whose audience includes the user, so
    their recordings are playable without a per-recording permission check.
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
        lesson.phase = (
            room_phase(room=room, now=now) if room else lesson_phase(lesson=lesson, now=now)
        )
    my_lessons_registers(user=request.user, upcoming=mine.upcoming, past=mine.past)
    context = {
        "upcoming": mine.upcoming,
        "past": mine.past,
        "calendar_url": _calendar_url(request),
        "preferences_form": preferences_form_for(request.user),
        "now": now,
    }
    return render(request, "webinars/my_lessons.html", context)


def _has_room(lesson: Lesson) -> bool:
    try:
        return lesson.room is not None
    except Room.DoesNotExist:
        return False


def _calendar_url(request: HttpRequest) -> str | None:
    """The personal iCal subscription, when the calendar API is installed."""
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

    A lesson whose window has not begun keeps its room uncreated (the scheduler or a forced
    API call creates it early, not a button): the answer is "opens at" straight away.
    """
    lesson = get_object_or_404(Lesson.objects.select_related("subject"), pk=lesson_id)
    room = Room.objects.filter(lesson=lesson).first()
    if room is None:
        opens_at, _closes_at = room_window(lesson.scheduled_start, lesson.scheduled_end)
        if timezone.now() < opens_at:
            early = Refusal(409, opens_at=opens_at)
            messages.error(request, f"{lesson.title}: {refusal_message(early)}")
            return redirect("webinars:my")
        room, _created = room_ensure_for_lesson(lesson=lesson)
    try:
        result = room_join_user(room=room, user=request.user, ip=client_ip(request))
    except JoinRefused as refusal:
        messages.error(request, f"{lesson.title}: {refusal_message(refusal)}")
        return redirect("webinars:my")
    return _after_join(request=request, result=result)


# --- /open-lessons/ ---------------------------------------------------------------------------


def open_lessons_page(request: HttpRequest) -> HttpResponse:
    """``/open-lessons/`` served without Wagtail's tree walk and per-request restriction check.

    The page is the same object for everyone: the live, unrestricted OpenLessonsPage at this
    URL is looked up once per OPEN_LESSONS_CACHE_SECONDS (Wagtail's routing was three quarters
    of the page's cost), and guests share its rendering. Anything else — a renamed or private
    page, a second site, a preview — goes through Wagtail's own ``serve`` exactly as before.
    """
    page = caching.open_lessons_route(load=lambda: _open_lessons_route(request))
    if not page:
        return wagtail_serve(request, request.path)

    def page_html(extra: dict) -> str:
        response = page.serve(request)
        response.context_data.update(extra)
        return response.render().content.decode()

    return caching.open_lessons_page(request, page=page, render=page_html)


def _open_lessons_route(request: HttpRequest) -> OpenLessonsPage | bool:
    page = OpenLessonsPage.objects.live().public().first()
    return page if page and page.get_url(request) == request.path else False
