from django.conf import settings
from django.contrib import admin as django_admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from webinars.api.wagtail_api import api_router

# A database error outside a view (a middleware's query) is a 503 too: portal/middleware.py.
handler500 = "portal.middleware.server_error"

urlpatterns = [
    path("django-admin/", django_admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v2/", api_router.urls),
    path("api/", include("webinars.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("webinars.urls")),
]

if settings.SERVE_RECORDINGS_VIA_DJANGO:
    from webinars.media_urls import recording_media_urlpatterns

    urlpatterns += recording_media_urlpatterns

# Wagtail's catch-all comes last. No language prefix in URLs: LocaleMiddleware picks the language
# from the switch's cookie, then the browser's Accept-Language, then LANGUAGE_CODE.
urlpatterns += [path("", include(wagtail_urls))]
