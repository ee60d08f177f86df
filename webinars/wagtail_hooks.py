from wagtail import hooks

from webinars.admin_views import WebinarsDashboardPanel
from webinars.viewsets import WebinarsViewSetGroup


@hooks.register("register_admin_viewset")
def register_webinars_viewsets():
    return WebinarsViewSetGroup()


@hooks.register("construct_homepage_panels")
def add_webinars_panel(request, panels):
    panels.append(WebinarsDashboardPanel())
