from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext
from django.views.i18n import JavaScriptCatalog
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


@hooks.register("register_admin_urls")
def register_django_widgets_catalogue():
    """Django's own widget words (the co-teacher picker's "Choose all", "Filter") in the admin
    user's language: Wagtail's JavaScript catalogue holds only Wagtail's. An admin URL, so it
    follows the user's preferred language as every admin view does."""
    catalogue = JavaScriptCatalog.as_view(packages=["django.contrib.admin"])
    return [path("jsi18n/django-widgets/", catalogue, name="webinars_widgets_jsi18n")]


@hooks.register("construct_homepage_summary_items", order=1000)
def summary_items_name_the_site_in_the_users_language(request, items):
    """The dashboard's counts say "created in <site>": a superuser's site is the tree root,
    named by WAGTAIL_SITE_NAME, which Wagtail prints untranslated. Runs after every other
    hook (order), so each item's context gets the name in the admin user's language."""
    for item in items:
        original = item.get_context_data

        def translated(parent_context, original=original):
            context = original(parent_context)
            if context.get("site_name"):
                context["site_name"] = gettext(context["site_name"])
            return context

        item.get_context_data = translated


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
