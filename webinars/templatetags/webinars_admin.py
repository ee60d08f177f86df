from django import template

from webinars import timezones

register = template.Library()


@register.filter
def school_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A datetime as wall-clock time in the school's zone (the zone is named by the caller)."""
    return timezones.school_time(value, fmt)
