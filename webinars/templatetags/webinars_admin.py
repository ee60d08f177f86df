from django import template

from webinars import timezones, wording

register = template.Library()


@register.filter
def school_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A datetime as wall-clock time in the school's zone (the zone is named by the caller)."""
    return timezones.school_time(value, fmt)


@register.filter
def person(user) -> str:
    """A person by name, the login in brackets (``webinars.wording.person_in_words``)."""
    return wording.person_in_words(user, fallback="—")


@register.filter
def yes_no(value) -> str:
    return wording.yes_no(value)
