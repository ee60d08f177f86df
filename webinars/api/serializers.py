"""Serializers shared by several API areas."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from webinars.choices import ClosedReason, JoinRole, RoomStatus
from webinars.models import Lesson, Room, SchoolClass, Subject

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


# --- The lists (docs/api.md) ------------------------------------------------------------------


def person_name(user) -> str:
    """A person as people read them: the full name (the username only when there is none)."""
    return user.get_full_name() or user.get_username()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return person_name(user)


class SchoolClassRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchoolClass
        fields = ["id", "name"]
        read_only_fields = fields


class RoomRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "status"]
        read_only_fields = fields


def lesson_room(lesson: Lesson) -> Room | None:
    """The lesson's room (joined by the list's query), or None while it has none."""
    try:
        return lesson.room
    except ObjectDoesNotExist:
        return None


def public_join_url(room: Room | None, *, lesson_is_open: bool) -> str | None:
    """The guest link ``/join/<slug>/`` on PORTAL_BASE_URL, for a public lesson room only."""
    if room is None or not (lesson_is_open and room.is_open and room.public_slug):
        return None
    path = reverse("webinars:join", kwargs={"slug": room.public_slug})
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


LESSON_ROW_FIELDS = [
    "id",
    "title",
    "subject",
    "class",
    "teacher",
    "co_teachers",
    "scheduled_start",
    "scheduled_end",
    "is_open",
    "is_cancelled",
    "room",
    "public_join_url",
]


def _person(user) -> dict:
    return {"id": user.pk, "name": person_name(user)}


class LessonRowSerializer(serializers.ModelSerializer):
    """A lesson in the API's lists: names, not usernames; times in UTC (or ``?tz=``).

    The related rows are read by the list's one query (and one prefetch): the nested objects
    are plain dicts of what was read, documented by the small serializers above.
    """

    subject = serializers.SerializerMethodField()
    teacher = serializers.SerializerMethodField()
    co_teachers = serializers.SerializerMethodField()
    scheduled_start = ZonedDateTimeField(read_only=True)
    scheduled_end = ZonedDateTimeField(read_only=True)
    room = serializers.SerializerMethodField()
    public_join_url = serializers.SerializerMethodField()

    class Meta:
        model = Lesson
        fields = [name for name in LESSON_ROW_FIELDS if name != "class"]
        read_only_fields = fields

    def get_fields(self):
        # "class" is a Python keyword, so it cannot be declared above: it is the lesson's
        # ``school_class``, put in its place in LESSON_ROW_FIELDS (subclasses' fields after).
        fields = super().get_fields()
        fields["class"] = serializers.SerializerMethodField(method_name="get_school_class")
        order = [*LESSON_ROW_FIELDS, *(name for name in fields if name not in LESSON_ROW_FIELDS)]
        return {name: fields[name] for name in order}

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, lesson) -> dict:
        subject = lesson.subject
        return {"id": subject.pk, "name": subject.name, "code": subject.code}

    @extend_schema_field(SchoolClassRefSerializer(allow_null=True))
    def get_school_class(self, lesson) -> dict | None:
        school_class = lesson.school_class
        return None if school_class is None else {"id": school_class.pk, "name": school_class.name}

    @extend_schema_field(PersonSerializer)
    def get_teacher(self, lesson) -> dict:
        return _person(lesson.teacher)

    @extend_schema_field(PersonSerializer(many=True))
    def get_co_teachers(self, lesson) -> list[dict]:
        return [_person(user) for user in lesson.co_teachers.all()]

    @extend_schema_field(RoomRefSerializer(allow_null=True))
    def get_room(self, lesson) -> dict | None:
        room = lesson_room(lesson)
        return None if room is None else {"id": room.pk, "status": room.status}

    def get_public_join_url(self, lesson) -> str | None:
        return public_join_url(lesson_room(lesson), lesson_is_open=lesson.is_open)


class WordsSerializer(serializers.Serializer):
    """A code that programs compare and its words for people (in the request's language)."""

    code = serializers.CharField()
    name = serializers.CharField()


def words(choices, code: str | None) -> dict | None:
    """``{"code", "name"}`` of ``code`` among ``choices`` (a TextChoices), or None."""
    if code is None:
        return None
    return {"code": code, "name": str(choices(code).label)}


class TimetableRowSerializer(LessonRowSerializer):
    """A lesson of the caller's timetable: their role, the room's status, whether Join works now
    (``my_role`` and ``can_join_now`` are set by the view, from ``roles.decide_join``)."""

    role = serializers.SerializerMethodField()
    room_status = serializers.SerializerMethodField()
    can_join_now = serializers.BooleanField(read_only=True)

    class Meta(LessonRowSerializer.Meta):
        fields = [*LessonRowSerializer.Meta.fields, "role", "room_status", "can_join_now"]
        read_only_fields = fields

    @extend_schema_field(WordsSerializer(allow_null=True))
    def get_role(self, lesson) -> dict | None:
        return words(JoinRole, lesson.my_role)

    @extend_schema_field(WordsSerializer(allow_null=True))
    def get_room_status(self, lesson) -> dict | None:
        room = lesson_room(lesson)
        return words(RoomStatus, None if room is None else room.status)
