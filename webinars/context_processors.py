from django.conf import settings


def school(request):
    """The school's zone, named on every page next to the times it explains, and its name."""
    return {"SCHOOL_TIME_ZONE": settings.TIME_ZONE, "SCHOOL_NAME": settings.WAGTAIL_SITE_NAME}
