"""Public HTML views (docs/public-pages.md), included at "" before Wagtail's catch-all."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from webinars.public import preferences, views

app_name = "webinars"
urlpatterns = [
    path("join/<str:slug>/", views.public_join, name="join"),
    path("my/", views.my_lessons, name="my"),
    path("my/join/<int:lesson_id>/", views.my_join, name="my-join"),
    path("my/preferences/", preferences.my_preferences, name="my-preferences"),
    path("my/calendar/regenerate/", preferences.my_calendar_regenerate, name="my-calendar-new"),
    path("open-lessons/", views.open_lessons_page, name="open-lessons"),
    # Anyone signed in (students, parents: no admin access) signs out here; POST only.
    path("sign-out/", LogoutView.as_view(next_page="/"), name="sign-out"),
]
