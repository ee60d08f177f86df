"""Serializers shared by several API areas."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from webinars.choices import ClosedReason
from webinars.models import Lesson, Room, Subject

UTC = ZoneInfo("UTC")


def requested_zone(request) -> ZoneInfo:
    """The zone asked for with ``?tz=`` (UTC by default); a bad name is a 400 naming ``tz``."""
    name = request.query_params.get("tz", "") if request is not None else ""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"tz": [f"Unknown time zone {name!r}."]}) from exc


class ZonedTimesMixin:
    """For views whose answers carry ``ZonedDateTimeField`` times (the schema gives them ``tz``):
    an unknown ``?tz=`` is a 400 naming ``tz`` even when the answer has no time to render (an
    empty list, a refusal), checked after authentication and permissions."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        requested_zone(request)


class ZonedDateTimeField(serializers.DateTimeField):
    """ISO 8601 with offset, in UTC or in the zone of ``?tz=``; input must carry an offset."""

    default_error_messages = {
        "naive": _(
            "Include a UTC offset, e.g. 2026-09-12T10:00:00+03:00 (naive times are ambiguous)."
        ),
        "impossible": _(
            "Not a real date and time: check the month, day and hour, and keep the UTC offset "
            "under 24 hours, e.g. 2026-09-12T10:00:00+03:00."
        ),
    }

    def to_representation(self, value):
        if value is None:
            return None
        zone = self.context.get("zone") or requested_zone(self.context.get("request"))
        return value.astimezone(zone).isoformat()

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible: month 13, hour 25, offset +24:00
            self.fail("impossible")
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        try:
            return super().to_internal_value(value).astimezone(UTC)
        except OverflowError:  # year 1 or 9999 pushed past the calendar by the offset
            self.fail("overflow")


class SubjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = ["id", "name", "code"]


class LessonSerializer(serializers.ModelSerializer):
    subject = SubjectSerializer(read_only=True)
    teacher = serializers.SerializerMethodField()
    scheduled_start = ZonedDateTimeField()
    scheduled_end = ZonedDateTimeField()

    class Meta:
        model = Lesson
        fields = [
            "id",
            "title",
            "description",
            "subject",
            "teacher",
            "scheduled_start",
            "scheduled_end",
            "is_open",
            "is_cancelled",
        ]

    @extend_schema_field(
        inline_serializer(
            "LessonTeacher", {"id": serializers.IntegerField(), "name": serializers.CharField()}
        )
    )
    def get_teacher(self, lesson) -> dict:
        teacher = lesson.teacher
        return {"id": teacher.pk, "name": teacher.get_full_name() or teacher.get_username()}


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as ``""`` when unset (Django's CharField habit), sent as null."""

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class RoomSerializer(serializers.ModelSerializer):
    scheduled_start = ZonedDateTimeField()
    scheduled_end = ZonedDateTimeField()
    started_at = ZonedDateTimeField(allow_null=True, help_text="null until the room opens")
    ended_at = ZonedDateTimeField(allow_null=True, help_text="null until the room closes")
    window_start = ZonedDateTimeField()
    window_end = ZonedDateTimeField()
    lesson = LessonSerializer(read_only=True, allow_null=True, help_text="null for a meeting")
    title = serializers.CharField(source="display_title")
    closed_reason = BlankAsNullChoiceField(
        choices=ClosedReason.choices, allow_null=True, read_only=True, help_text="null while open"
    )

    class Meta:
        model = Room
        fields = [
            "id",
            "type",
            "status",
            "title",
            "lesson",
            "jitsi_domain",
            "jitsi_room",
            "jitsi_env",
            "is_open",
            "public_slug",
            "scheduled_start",
            "scheduled_end",
            "window_start",
            "window_end",
            "started_at",
            "ended_at",
            "join_url",
            "auto_manage",
            "closed_reason",
        ]
        read_only_fields = fields
