"""How the API's lists read their query and pages (``webinars.api.lessons`` uses it).

Every list is paginated the same way (``ListPagination``: ``count``, ``next``, ``previous``,
``results``; ``page``, ``page_size`` up to 100, 50 by default). Filters are read by one query
serializer per list, so a bad value is a 400 naming the parameter
(``{"detail": "Invalid input: from.", "errors": …}``); ``LIST_ERRORS`` is what the schema says
of them.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, status
from rest_framework.fields import empty
from rest_framework.pagination import PageNumberPagination

from webinars.api.schema import ErrorSerializer
from webinars.api.serializers import UTC, requested_zone
from webinars.choices import RoomStatus
from webinars.timezones import school_zone

MAX_PAGE_SIZE = 100
TIMETABLE_DAYS = 7


class ListPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (1–100, 50 by default); a page past the last is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


ERROR = INVALID = ErrorSerializer  # the API's one error body (webinars.api.schema)
LIST_ERRORS = {
    status.HTTP_400_BAD_REQUEST: OpenApiResponse(INVALID, description="A filter's bad value."),
    status.HTTP_401_UNAUTHORIZED: OpenApiResponse(ERROR, description="Not signed in."),
    status.HTTP_404_NOT_FOUND: OpenApiResponse(ERROR, description="No such page."),
}


# --- Query parameters -------------------------------------------------------------------------


class QueryBooleanField(serializers.BooleanField):
    """true/false (1/0, yes/no); absent means "either" (DRF's own field takes absent as false
    in a query string)."""

    default_empty_html = empty


@extend_schema_field(
    {
        "type": "string",
        "description": "An ISO 8601 date-time with a UTC offset, or a date (the school's zone).",
        "example": "2026-09-12",
    }
)
class MomentField(serializers.Field):
    """A moment: an aware ISO 8601 date-time, or a date meaning the start of that day in the
    school's zone (``day_after``: the start of the next day, so ``to=2026-09-12`` includes it)."""

    default_error_messages = {
        "invalid": _(
            "Give a date (2026-09-12) or a date and time with a UTC offset "
            "(2026-09-12T10:00:00+02:00)."
        ),
        "naive": _(
            "Include a UTC offset, e.g. 2026-09-12T10:00:00+02:00 (naive times are "
            "ambiguous), or give a date."
        ),
    }

    def __init__(self, *, day_after: bool = False, **kwargs):
        self.day_after = day_after
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        try:
            day = parse_date(text)
            moment = None if day is not None else parse_datetime(text)
        except ValueError:  # well-formed but impossible: month 13, hour 25
            self.fail("invalid")
        if day is not None:
            if self.day_after:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=school_zone()).astimezone(UTC)
        if moment is None:
            self.fail("invalid")
        if timezone.is_naive(moment):
            self.fail("naive")
        return moment.astimezone(UTC)

    def to_representation(self, value):
        return value.isoformat()


class ListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, help_text="1 is the first page.")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, help_text="Rows per page (50)."
    )


class PeriodQuerySerializer(ListQuerySerializer):
    """``from`` and ``to`` (Python keywords, so added in ``get_fields``): what overlaps them."""

    period_help = ("Overlapping from this moment.", "Overlapping until this moment.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = MomentField(required=False, help_text=self.period_help[0])
        fields["to"] = MomentField(required=False, day_after=True, help_text=self.period_help[1])
        return fields

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"to": [_("Must be after from.")]})
        return attrs


class LessonQuerySerializer(PeriodQuerySerializer):
    subject = serializers.CharField(
        required=False, max_length=120, help_text="A subject's id or code (any case)."
    )
    teacher = serializers.IntegerField(required=False, min_value=1, help_text="A teacher's id.")
    is_open = QueryBooleanField(required=False, help_text="true: open lessons only; false: none.")
    mine = QueryBooleanField(
        required=False, help_text="1: only lessons you teach or are expected in (or your child)."
    )
    ordering = serializers.ChoiceField(
        choices=["scheduled_start", "-scheduled_start"],
        required=False,
        help_text="By start time (default scheduled_start).",
    )
    tz = serializers.CharField(
        required=False, allow_blank=True, help_text="Zone of the times (default UTC)."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = serializers.IntegerField(
            required=False, min_value=1, help_text="A class's id."
        )
        return fields


class AnyCaseChoiceField(serializers.ChoiceField):
    """A choice of upper-case codes, given in any case (``open`` is ``OPEN``)."""

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).upper())


class RoomQuerySerializer(PeriodQuerySerializer):
    status = AnyCaseChoiceField(
        choices=RoomStatus.choices, required=False, help_text="The room's status (any case)."
    )
    tz = serializers.CharField(
        required=False, allow_blank=True, help_text="Zone of the times (default UTC)."
    )


class TimetableQuerySerializer(PeriodQuerySerializer):
    period_help = (
        "Overlapping from this moment (default: today, in the school's zone).",
        f"Overlapping until this moment (default: {TIMETABLE_DAYS} days after from).",
    )
    tz = serializers.CharField(
        required=False, allow_blank=True, help_text="Zone of the times (default UTC)."
    )


def list_query(view, serializer_class) -> dict:
    """The view's validated query parameters (400 naming the bad ones); ``tz`` checked too."""
    query = serializer_class(data=view.request.query_params)
    query.is_valid(raise_exception=True)
    requested_zone(view.request)
    return query.validated_data


def overlapping(rows, params: dict, *, start: str = "scheduled_start", end: str = "scheduled_end"):
    if params.get("from") is not None:
        rows = rows.filter(**{f"{end}__gt": params["from"]})
    if params.get("to") is not None:
        rows = rows.filter(**{f"{start}__lt": params["to"]})
    return rows
