"""What the home page shows, computed by the selectors (the page model computes nothing)."""

from django import template
from django.utils.functional import SimpleLazyObject

from webinars.selectors.home import home_listing

register = template.Library()


@register.simple_tag(takes_context=True)
def home_sections(context):
    """Live now, next, public meetings and, for a signed-in visitor, their next lessons.

    Lazy: the queries run where the template first reads a list.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    return SimpleLazyObject(lambda: home_listing(user=user))
