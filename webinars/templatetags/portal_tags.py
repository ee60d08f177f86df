"""Template helpers of the public site: times in the school's zone, the main navigation."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language

from webinars.pages import MeetingIndexPage, OpenLessonsPage
from webinars.public import caching
from webinars.wording import duration_in_words

register = template.Library()


def _local(value: datetime) -> datetime:
    return timezone.localtime(value, timezone=ZoneInfo(settings.TIME_ZONE))


@register.simple_tag
def school_time_range(start: datetime, end: datetime, with_date: bool = True) -> str:
    """``<time>`` elements for "Mon 23 November, 10:00–10:45 Europe/Amsterdam".

    The zone is always named: parents abroad must not guess which 10:00 it is.
    """
    begin, finish = _local(start), _local(end)
    day = formats.date_format(begin, "D j E") + ", " if with_date else ""
    end_text = formats.time_format(finish, "H:i")
    if finish.date() != begin.date():
        end_text = formats.date_format(finish, "D j E") + ", " + end_text
    return format_html(
        '<time datetime="{}">{}{}</time>–<time datetime="{}">{}</time> {}',
        begin.isoformat(),
        day,
        formats.time_format(begin, "H:i"),
        finish.isoformat(),
        end_text,
        settings.TIME_ZONE,
    )


@register.simple_tag
def school_time(value: datetime, with_date: bool = True) -> str:
    """One instant in the school's zone, zone named: "Mon 23 November, 09:45 Europe/Amsterdam"."""
    local = _local(value)
    text = formats.time_format(local, "H:i")
    if with_date:
        text = formats.date_format(local, "D j E") + ", " + text
    return format_html(
        '<time datetime="{}">{} {}</time>', local.isoformat(), text, settings.TIME_ZONE
    )


@register.simple_tag
def site_pages() -> dict:
    """URLs of the open-lessons page and the meeting index (cached by ``caching``)."""
    return caching.site_page_urls(load=_site_page_urls) or {"open_lessons": None, "meetings": None}


def _site_page_urls() -> dict | None:
    urls = {}
    for name, model in (("open_lessons", OpenLessonsPage), ("meetings", MeetingIndexPage)):
        page = model.objects.live().first()
        urls[name] = page.url if page is not None else None
    return urls if any(urls.values()) else None  # a site being set up is asked again next time


@register.simple_tag(takes_context=True)
def site_nav_current(context) -> dict:
    """The main navigation's page URLs, which item is the current page, and whether the
    visitor is signed in: all the header in ``base.html`` varies on."""
    request = context.get("request")
    urls = site_pages()
    name, signed_in = "", False
    if request is not None:
        signed_in = request.user.is_authenticated
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name == "webinars:my":
            name = "my"
        else:
            name = next((key for key, url in urls.items() if url and url == request.path), "")
    return {"urls": urls, "name": name, "signed_in": signed_in}


@register.simple_tag
def current_language_code() -> str:
    return get_language() or settings.LANGUAGE_CODE


@register.filter
def as_duration(seconds: int | None) -> str:
    """A recording's length as a person says it: "5 seconds", "1 minute", "12 minutes"."""
    return duration_in_words(seconds)
