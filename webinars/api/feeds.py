"""API views: the open-lessons feed (docs/api.md)."""

from django.conf import settings
from django.db import DataError, connection
from django.http import HttpResponse
from django.urls import path
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from webinars.api.serializers import (
    LessonSerializer,
    ZonedDateTimeField,
    ZonedTimesMixin,
    requested_zone,
)
from webinars.models import Room
from webinars.public import caching
from webinars.selectors.open_lessons import open_lessons_feed, open_lessons_feed_json

MAX_WINDOW_HOURS = 24 * 366


class OpenLessonsQuerySerializer(serializers.Serializer):
    hours = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=MAX_WINDOW_HOURS,
        help_text="Hours ahead (default OPEN_LESSONS_HORIZON_HOURS, 48).",
    )
    since_hours = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=MAX_WINDOW_HOURS,
        default=10 / 60,
        help_text="Hours back (default ten minutes).",
    )
    all = serializers.BooleanField(
        required=False, default=False, help_text="1: ignore the window, list every open lesson."
    )
    # tz: requested_zone reads it (a 400 naming it); the schema adds it as for every view.


class OpenLessonItemSerializer(serializers.ModelSerializer):
    room_id = serializers.IntegerField(source="id")
    scheduled_start = ZonedDateTimeField()
    scheduled_end = ZonedDateTimeField()
    lesson = LessonSerializer()

    class Meta:
        model = Room
        fields = ["room_id", "public_slug", "status", "scheduled_start", "scheduled_end", "lesson"]
        read_only_fields = fields


class OpenLessonsFeedApi(ZonedTimesMixin, APIView):
    """Open lessons around now that have their room (reads never create one: docs/lifecycle.md).

    Anonymous callers are welcome (it is the school's public timetable) and throttled. The
    answer is the same for everyone, so it is cached for OPEN_LESSONS_CACHE_SECONDS per
    parameter set (the key is ``webinars.public.caching``'s): a link shared to the whole school
    costs one database round per period. The array is never paginated.
    """

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        parameters=[OpenLessonsQuerySerializer],
        responses=OpenLessonItemSerializer(many=True),
    )
    def get(self, request):
        query = OpenLessonsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        zone = requested_zone(request)
        params = query.validated_data
        hours = params.get("hours", float(settings.OPEN_LESSONS_HORIZON_HOURS))
        ttl = settings.OPEN_LESSONS_CACHE_SECONDS

        window = {"hours": hours, "since_hours": params["since_hours"], "show_all": params["all"]}

        def render() -> bytes:
            if connection.vendor == "postgresql":  # the database writes the JSON (its docstring)
                try:
                    return open_lessons_feed_json(zone=zone.key, **window).encode()
                except DataError:  # a zone Python knows and the database does not
                    if connection.in_atomic_block:  # the transaction is spoilt: nothing to save
                        raise
            rooms = open_lessons_feed(**window)
            context = {"request": request, "zone": zone}
            return JSONRenderer().render(
                OpenLessonItemSerializer(rooms, many=True, context=context).data
            )

        body = caching.open_lessons_feed(
            params=(hours, params["since_hours"], params["all"], zone.key), render=render
        )
        # Already rendered JSON (the cache keeps bytes, not 2,000 objects to re-render).
        response = HttpResponse(body, content_type="application/json")
        if ttl:
            patch_cache_control(response, public=True, max_age=ttl)
        return response


urlpatterns = [
    path("rooms/open-lessons/", OpenLessonsFeedApi.as_view(), name="api-open-lessons"),
]
