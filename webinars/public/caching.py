"""Every cache key of the public pages, how they are cached and when they are dropped.

One mechanism, Django's cache framework (``django.core.cache.cache``, so a cache shared by
all workers in production is shared here too):

- data a page needs, through ``_remember``: a join page's facts, the page object that
  ``/open-lessons/`` serves, the filter's subjects, the navigation's page URLs, and the
  rendered JSON of the open-lessons API feed (``webinars.api.feeds``);
- the open-lessons lists and filter form, as ``{% cache %}`` fragments of
  ``webinars/open_lessons_page.html`` whose timeout and vary-on values come from
  ``open_lessons_fragments`` (Django builds the key from the fragment's name and those);
- whole pages shared by guests, through ``shared_page``.

Invalidation is here too: the signal receivers call the ``*_changed`` functions. What each
page caches, how long, and what shows when, is in docs/public-pages.md.
"""

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language

T = TypeVar("T")

SITE_PAGES_SECONDS = 300  # pages rarely move; publishing or moving one drops it at once

_OPEN_LESSONS_ROUTE = "portal:open-lessons-route"
_SUBJECTS = "portal:open-lessons-subjects"
_SITE_PAGES = "portal:site-pages"


def _key(name: str, *parts) -> str:
    """A key for ``name`` varying on ``parts``; hashed, as parts may be what a visitor typed
    (a slug, a query string) and cache backends want short keys without spaces."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"portal:{name}:{digest}"


def _period(seconds: int) -> int:
    """The number of the current ``seconds``-long period. Keys that carry it change together
    at the period's end, so a shared page is never older than the fragments inside it."""
    return int(time.time() // seconds) if seconds > 0 else 0


def _remember(key: str, seconds: int, load: Callable[[], T | None]) -> T | None:
    """``load()``, kept ``seconds`` under ``key`` (0: not kept). None, "nothing to show", is
    never kept, so made-up URLs cannot fill the cache."""
    if seconds <= 0:
        return load()
    value = cache.get(key)
    if value is None:
        value = load()
        if value is not None:
            cache.set(key, value, seconds)
    return value


# --- Data ---------------------------------------------------------------------------------


def join_page_facts(*, slug: str, load: Callable[[], T | None]) -> T | None:
    """A join page's room, people and recording, for JOIN_PAGE_CACHE_SECONDS per link.

    A status set by the scheduler, a regenerated slug or a new recording shows up to that
    late on the page; a join (POST) never uses them. A meeting page's edit drops them.
    """
    return _remember(_key("join-facts", slug), settings.JOIN_PAGE_CACHE_SECONDS, load)


def open_lessons_route(*, load: Callable[[], T]) -> T:
    """The OpenLessonsPage that ``/open-lessons/`` serves directly (or False: leave the URL
    to Wagtail), for OPEN_LESSONS_CACHE_SECONDS; publishing the page drops it."""
    return _remember(_OPEN_LESSONS_ROUTE, settings.OPEN_LESSONS_CACHE_SECONDS, load)


def filter_subjects(*, load: Callable[[], T]) -> T:
    """The open-lessons filter's subjects, as long as the lists they filter."""
    return _remember(_SUBJECTS, settings.OPEN_LESSONS_CACHE_SECONDS, load)


def site_page_urls(*, load: Callable[[], T | None]) -> T | None:
    """The navigation's page URLs (``load`` answers None while the site has no such page)."""
    return _remember(_SITE_PAGES, SITE_PAGES_SECONDS, load)


def open_lessons_feed(*, params: tuple, render: Callable[[], bytes]) -> bytes:
    """The open-lessons API feed's JSON (rendered bytes: not 2,000 objects to re-render) per
    parameter set, for OPEN_LESSONS_CACHE_SECONDS; the same for everyone, so anonymous."""
    return _remember(
        _key("open-lessons-feed", *params), settings.OPEN_LESSONS_CACHE_SECONDS, render
    )


def open_lessons_fragments(*, request: HttpRequest, subject_id: int | None, day) -> dict:
    """Timeout and vary-on values of the open-lessons page's two ``{% cache %}`` fragments.

    The lists vary on the valid filter; the rendered form on the visitor's raw values (it
    shows them back, with their errors). Both on the language and the period, so lessons
    changed in the admin show within OPEN_LESSONS_CACHE_SECONDS, on a shared page too.
    """
    seconds = settings.OPEN_LESSONS_CACHE_SECONDS
    common = (get_language(), _period(seconds))
    return {
        "fragments_seconds": seconds,
        "filters_fragment": (*common, request.GET.get("subject", ""), request.GET.get("day", "")),
        "lists_fragment": (*common, subject_id or "", day or ""),
    }


# --- Shared pages -------------------------------------------------------------------------

# Stands for the visitor's CSRF token in shared HTML. The same in every worker (the cache may
# be shared) and unguessable (derived from SECRET_KEY), so no page text can carry it.
_CSRF_PLACEHOLDER = "csrf-token-" + salted_hmac("shared-page-csrf", "").hexdigest()[:32]


def shared_page(
    request: HttpRequest,
    *,
    key: str,
    seconds: int,
    render: Callable[[dict], str],
    params: tuple[str, ...] = (),
) -> HttpResponse:
    """The page ``render(extra_context)`` makes, rendered once per ``key`` and shared by
    guests for ``seconds``; anyone else (signed in, with a flash message, with other query
    parameters than ``params``, not a GET) gets a page rendered for them.

    Why by hand: the pages carry forms, so their HTML holds the visitor's CSRF token, and
    Django's ``cache_page`` varies such a page on the Cookie header (one copy per visitor)
    and does not store it for a first visit (the answer sets the CSRF cookie). So the shared
    copy is rendered with a placeholder instead of the token and each visitor's own masked
    token (``get_token``: the cookie is set as on a fresh page) is put in its place.
    """
    shareable = (
        seconds > 0
        and request.method == "GET"
        and not request.user.is_authenticated
        and set(request.GET) <= set(params)
        and not messages.get_messages(request)
    )
    if not shareable:
        return HttpResponse(render({}))
    html = cache.get(key)
    if html is None:
        html = render({"csrf_token": _CSRF_PLACEHOLDER})
        cache.set(key, html, seconds)
    return HttpResponse(html.replace(_CSRF_PLACEHOLDER, get_token(request)))


def join_page(
    request: HttpRequest, *, facts_version: str, phase: str, render: Callable[[dict], str]
) -> HttpResponse:
    """A join page, shared per facts, phase and language: the phase (by the clock) turns
    "live" on the minute, and the page lives no longer than the facts it shows."""
    return shared_page(
        request,
        key=_key("join-page", facts_version, phase, get_language()),
        seconds=settings.JOIN_PAGE_CACHE_SECONDS,
        render=render,
    )


def open_lessons_page(request: HttpRequest, *, page, render: Callable[[dict], str]) -> HttpResponse:
    """The open-lessons page, shared per publication, filter, language and period."""
    seconds = settings.OPEN_LESSONS_CACHE_SECONDS
    variant = (request.GET.get("subject", ""), request.GET.get("day", ""))
    return shared_page(
        request,
        key=_key(
            "open-lessons-page",
            page.pk,
            page.last_published_at,
            *variant,
            get_language(),
            _period(seconds),
        ),
        seconds=seconds,
        render=render,
        params=("subject", "day"),
    )


# --- Invalidation (called by webinars/signals.py) -----------------------------------------


def open_lessons_page_changed() -> None:
    """Published, unpublished, moved or deleted: the next request looks the page up again
    (and its shared HTML, keyed on the publication, is not used any more)."""
    cache.delete(_OPEN_LESSONS_ROUTE)


def site_pages_changed() -> None:
    """A page the navigation links to was published, unpublished, moved or deleted."""
    cache.delete(_SITE_PAGES)


def join_page_changed(*, slug: str) -> None:
    """The room behind ``slug`` changed (a meeting page's edit): its join page reads it again."""
    cache.delete(_key("join-facts", slug))
