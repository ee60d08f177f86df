"""The school's timetable and its video rooms (docs/architecture.md).

Plain models administered through Wagtail viewsets; the editorial pages live in ``pages.py``.
All datetimes are aware and stored in UTC; conversion to the school's zone happens at the edges.
"""

import base64
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webinars.choices import (
    AttendanceSource,
    ClosedReason,
    JitsiEnv,
    JoinRole,
    RecordingIssueKind,
    RecordingStatus,
    RecordingStorage,
    RoomStatus,
    RoomType,
)
from webinars.lifecycle import room_window
from webinars.people import TEACHERS, require_group
from webinars.providers import VideoProvider, provider_for

MAX_LESSON_DURATION = timedelta(hours=12)


def random_token(nbytes: int = 10) -> str:
    """A lower-case, URL-safe, unguessable token (base32 of ``nbytes`` random bytes)."""
    return base64.b32encode(secrets.token_bytes(nbytes)).decode().rstrip("=").lower()


def new_jitsi_room_name() -> str:
    return f"cedar-{random_token(15)}"


def new_public_slug() -> str:
    return random_token(10)


def recording_storage():
    return storages["recordings"]


class Subject(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.CharField(_("short code"), max_length=16, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Lesson(models.Model):
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="lessons", verbose_name=_("subject")
    )
    title = models.CharField(_("title / topic"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="lessons_taught",
        verbose_name=_("teacher"),
    )
    co_teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="lessons_co_taught",
        verbose_name=_("co-teachers"),
    )
    scheduled_start = models.DateTimeField(_("starts at"), db_index=True)
    scheduled_end = models.DateTimeField(_("ends at"), db_index=True)
    is_open = models.BooleanField(
        _("open lesson"),
        default=False,
        help_text=_("Anyone with the public link may watch as an observer."),
    )
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    # Goes up whenever the start, the end or the cancellation changes (``webinars.signals``):
    # calendar apps (SEQUENCE) and notices (one per person and version) follow it.
    sequence = models.PositiveIntegerField(_("revision"), default=0, editable=False)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cover image"),
    )
    school_class = models.ForeignKey(
        "webinars.SchoolClass",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lessons",
        verbose_name=_("class"),
        help_text=_("When set, this class's students take part instead of the subject's."),
    )
    series = models.ForeignKey(
        "webinars.LessonSeries",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,  # deleting a series goes through series_delete's guard
        related_name="lessons",
        verbose_name=_("series"),
    )
    detached_from_series = models.BooleanField(
        _("edited on its own"),
        default=False,
        editable=False,
        help_text=_("Changes to its series no longer touch this lesson."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Set by callers before full_clean(): creating a lesson in the past must be meant, and the
    # co-teachers a form is about to save are checked for clashes before they exist as rows.
    allow_past = False
    planned_co_teacher_ids: set[int] | None = None

    class Meta:
        ordering = ["scheduled_start"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        indexes = [models.Index(fields=["is_open", "scheduled_start"], name="lesson_open_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_end__gt=models.F("scheduled_start")),
                name="lesson_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.subject.code})"

    def clean(self) -> None:
        super().clean()
        if self.scheduled_start and self.scheduled_end:
            if self.scheduled_end <= self.scheduled_start:
                raise ValidationError({"scheduled_end": _("The end must be after the start.")})
            if self.scheduled_end - self.scheduled_start > MAX_LESSON_DURATION:
                raise ValidationError({"scheduled_end": _("A lesson may last at most 12 hours.")})
            if self._state.adding and not self.allow_past and self.scheduled_start < timezone.now():
                raise ValidationError(
                    {"scheduled_start": _("This is in the past; confirm to create it anyway.")}
                )
        if self.teacher_id:
            require_group(field="teacher", group=TEACHERS, user_ids=[self.teacher_id])
        if self.planned_co_teacher_ids:
            require_group(field="co_teachers", group=TEACHERS, user_ids=self.planned_co_teacher_ids)
        if self.scheduled_start and self.scheduled_end and self.teacher_id and self.subject_id:
            from webinars.clashes import lesson_clash_errors

            errors = lesson_clash_errors(lesson=self)
            if errors:
                raise ValidationError(errors)


class Room(models.Model):
    """Exactly one Jitsi room per lesson (a database constraint), or a meeting's room."""

    type = models.CharField(
        _("type"), max_length=10, choices=RoomType.choices, default=RoomType.LESSON
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RoomStatus.choices, default=RoomStatus.SCHEDULED
    )
    lesson = models.OneToOneField(
        Lesson,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="room",
        verbose_name=_("lesson"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    jitsi_domain = models.CharField(_("Jitsi domain"), max_length=255)
    jitsi_room = models.CharField(
        _("Jitsi room"), max_length=100, unique=True, default=new_jitsi_room_name
    )
    jitsi_env = models.CharField(
        _("Jitsi environment"),
        max_length=12,
        choices=JitsiEnv.choices,
        default=JitsiEnv.SELF_HOSTED,
    )
    is_open = models.BooleanField(_("open to the public"), default=False)
    public_slug = models.CharField(
        _("public link slug"), max_length=64, unique=True, default=new_public_slug
    )
    scheduled_start = models.DateTimeField(_("starts at"))
    scheduled_end = models.DateTimeField(_("ends at"))
    started_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    join_url = models.URLField(_("join URL (without token)"), max_length=500, blank=True)
    auto_manage = models.BooleanField(
        _("managed by the scheduler"),
        default=True,
        help_text=_("Untick to open and close this room by hand only."),
    )
    closed_reason = models.CharField(
        _("closed because"), max_length=10, choices=ClosedReason.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_start"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        indexes = [
            models.Index(fields=["status", "scheduled_start"], name="room_status_start"),
            models.Index(fields=["status", "scheduled_end"], name="room_status_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type=RoomType.MEETING) | Q(lesson__isnull=False),
                name="room_lesson_required_for_lessons",
            ),
            models.CheckConstraint(
                condition=Q(jitsi_room=Lower("jitsi_room")),
                name="room_jitsi_room_lowercase",
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        if self.lesson_id:
            return self.lesson.title
        return f"Room {self.pk}"

    @property
    def window_start(self):
        return room_window(self.scheduled_start, self.scheduled_end)[0]

    @property
    def window_end(self):
        return room_window(self.scheduled_start, self.scheduled_end)[1]

    @property
    def provider(self) -> VideoProvider:
        """The video platform this room lives on (chosen by ``jitsi_env``)."""
        return provider_for(self)


class Recording(models.Model):
    """One recorded file of a room; each Jibri start/stop or JaaS upload makes one."""

    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="recordings", verbose_name=_("room")
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RecordingStatus.choices,
        default=RecordingStatus.PENDING,
        db_index=True,
    )
    file = models.FileField(
        _("file"), storage=recording_storage, upload_to="lessons/%Y/%m/", blank=True, max_length=500
    )
    file_url = models.URLField(_("file URL"), max_length=1000, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration_secs = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    storage = models.CharField(
        _("storage"),
        max_length=8,
        choices=RecordingStorage.choices,
        default=RecordingStorage.LOCAL,
    )
    meta = models.JSONField(_("details"), default=dict, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    checksum_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        get_latest_by = ["created_at", "id"]
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")

    def __str__(self) -> str:
        return f"{self.room} — {self.get_status_display()}"


class RecordingCheckIssue(models.Model):
    """One finding of the hourly recording check; each run replaces the list.

    ``recording`` is the recording concerned, or for an orphan file the one it can be attached
    back to (the admin's retry does that); see docs/recordings.md.
    """

    wagtail_reference_index_ignore = True

    kind = models.CharField(_("kind"), max_length=16, choices=RecordingIssueKind.choices)
    name = models.CharField(_("file in storage"), max_length=500, blank=True)
    recording = models.ForeignKey(
        Recording,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="check_issues",
        verbose_name=_("recording"),
    )
    size_bytes = models.BigIntegerField(_("size in storage (bytes)"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    found_at = models.DateTimeField(_("found at"))

    class Meta:
        ordering = ["kind", "name", "id"]
        verbose_name = _("recording check issue")
        verbose_name_plural = _("recording check issues")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name or self.recording}"


class Attendance(models.Model):
    """One row per session in a room; rejoins make new rows, durations are derived."""

    # Written on hot paths (joins, webhooks, ticks) and never referenced by editorial content.
    wagtail_reference_index_ignore = True

    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        related_name="attendances",
        verbose_name=_("room"),
        db_index=False,  # "attendance_room_joined" starts with the room: one index less per join
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attendances",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=64)
    role = models.CharField(_("role"), max_length=12, choices=JoinRole.choices)
    joined_at = models.DateTimeField(_("joined at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=AttendanceSource.choices,
        default=AttendanceSource.JOIN_API,
    )
    participant_id = models.CharField(_("Jitsi participant id"), max_length=128, blank=True)
    # The id our join link gave the person (``Person.id``: the user's pk, or ``guest-<hex>``),
    # which the platform echoes back: it ties a leave to the join (docs/register.md).
    person_id = models.CharField(_("person id"), max_length=64, blank=True)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        indexes = [models.Index(fields=["room", "joined_at"], name="attendance_room_joined")]

    def __str__(self) -> str:
        return f"{self.display_name} @ {self.room}"

    @property
    def duration(self) -> timedelta | None:
        return self.left_at - self.joined_at if self.left_at else None


class JoinAudit(models.Model):
    """Every join decision: the role granted or the refusal, and the rule that decided it."""

    # Written on hot paths (joins, webhooks, ticks) and never referenced by editorial content.
    wagtail_reference_index_ignore = True

    room = models.ForeignKey(
        Room,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="join_audits",
        verbose_name=_("room"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    granted = models.BooleanField(_("granted"))
    role = models.CharField(_("role"), max_length=12, choices=JoinRole.choices, blank=True)
    rule = models.CharField(_("deciding rule"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), default=200)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("join decision")
        verbose_name_plural = _("join decisions")

    def __str__(self) -> str:
        outcome = self.role if self.granted else f"refused ({self.status_code})"
        return f"{self.user or self.display_name or 'guest'}: {outcome} by {self.rule}"


class WebhookEvent(models.Model):
    """A received JaaS/Jibri event, kept for deduplication on its idempotency key."""

    # Written on hot paths (joins, webhooks, ticks) and never referenced by editorial content.
    wagtail_reference_index_ignore = True

    idempotency_key = models.CharField(max_length=200, unique=True)
    event_type = models.CharField(max_length=64)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.idempotency_key}"


class Heartbeat(models.Model):
    """Last time a named background loop (the room scheduler) ran; read by /api/health/."""

    # Written on hot paths (joins, webhooks, ticks) and never referenced by editorial content.
    wagtail_reference_index_ignore = True

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class CalendarToken(models.Model):
    """The secret of a user's personal iCal subscription; regenerate to revoke."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token"
    )
    token = models.CharField(max_length=64, unique=True, default=new_public_slug)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar of {self.user}"


# Wagtail pages, and the school's people, classes and series, are models of this app too: import
# them so Django registers them (and ``from webinars.models import Enrollment`` keeps working).
from webinars.models_register import Notice, PersonPreferences  # noqa: E402, F401
from webinars.models_tokens import ApiToken  # noqa: E402, F401
from webinars.models_webhooks import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
from webinars.pages import MeetingIndexPage, MeetingPage, OpenLessonsPage  # noqa: E402, F401
from webinars.school import (  # noqa: E402, F401
    Enrollment,
    Guardianship,
    LessonSeries,
    SchoolClass,
    SchoolClosure,
)
