from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from wagtail import hooks
from wagtail.admin import messages

from webinars import admin_register  # noqa: F401 - registers the register reports, notice log
from webinars.admin.webhooks import WebhooksViewSetGroup
from webinars.admin_views import WebinarsDashboardPanel
from webinars.viewsets import WebinarsViewSetGroup


@hooks.register("register_admin_viewset")
def register_webinars_viewsets():
    return WebinarsViewSetGroup()


hooks.register("register_admin_viewset", WebhooksViewSetGroup)  # called: the group


@hooks.register("construct_homepage_panels")
def add_webinars_panel(request, panels):
    panels.append(WebinarsDashboardPanel())


@hooks.register("before_delete_page")
def refuse_deleting_meetings_with_recordings(request, page):
    from webinars.pages import MeetingPage
    from webinars.services.meetings import meeting_page_delete_guard

    if isinstance(page.specific, MeetingPage):
        try:
            meeting_page_delete_guard(page=page.specific)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("wagtailadmin_pages:edit", page.pk)
    return None
