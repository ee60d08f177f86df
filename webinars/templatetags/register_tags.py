"""Template helpers of the register on "My lessons": statuses in words, times in the zone."""

from django import template

from webinars.selectors.register import status_label
from webinars.timezones import school_time

register = template.Library()


@register.simple_tag
def register_status(line) -> str:
    """The line's status in words, in the page's language."""
    return status_label(line) if line.status else ""


@register.filter
def school_clock(value) -> str:
    """``09:03`` in the school's zone (the table names the zone once)."""
    return school_time(value, "%H:%M")
