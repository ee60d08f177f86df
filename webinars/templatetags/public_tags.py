"""What the editorial Wagtail pages show, computed by the public layer.

Pages are models too (services create meeting pages, the tick reads them), so ``pages.py``
imports nothing above the models; their templates ask these tags for what to show instead.
"""

from django import template
from django.utils.functional import SimpleLazyObject

from webinars.public import caching
from webinars.public.forms import LessonFilterForm
from webinars.public.join_block import join_block_context
from webinars.selectors.open_lessons import open_lessons_listing, subjects_for_filters

register = template.Library()


@register.simple_tag(takes_context=True)
def open_lessons_sections(context) -> dict:
    """Live now / next 48 h / recent recordings, narrowed by the GET filter form.

    A constant handful of queries whatever the timetable's size (see the selector). The lists
    are the same for every visitor, so the template caches them and the rendered filter form
    for OPEN_LESSONS_CACHE_SECONDS (keys from ``caching``); ``listing`` is lazy and the
    subjects are cached as long, so a cached page costs no query of ours.
    """
    request = context["request"]
    subjects = caching.filter_subjects(load=subjects_for_filters)
    form = LessonFilterForm(request.GET or None, subjects=subjects)
    form.is_valid()  # an invalid field is shown and ignored; the valid one still filters
    cleaned = getattr(form, "cleaned_data", {})
    subject, day = cleaned.get("subject"), cleaned.get("day")
    subject_id = subject.pk if subject else None
    return {
        "filter_form": form,
        "listing": SimpleLazyObject(
            lambda: open_lessons_listing(subject_id=subject_id, day=day, subjects=subjects)
        ),
        "filtered": bool(subject or day),
        **caching.open_lessons_fragments(request=request, subject_id=subject_id, day=day),
    }


@register.inclusion_tag("includes/join_block.html", takes_context=True)
def join_block(context, room) -> dict:
    """The join block of ``/join/<slug>/`` inside a meeting page."""
    request = context["request"]
    return {
        **join_block_context(request=request, room=room),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
