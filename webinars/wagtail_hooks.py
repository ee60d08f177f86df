from wagtail import hooks

from webinars.viewsets import WebinarsViewSetGroup


@hooks.register("register_admin_viewset")
def register_webinars_viewsets():
    return WebinarsViewSetGroup()
