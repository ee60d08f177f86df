from django.db import models
from django.utils.translation import gettext_lazy as _


class RoomType(models.TextChoices):
    LESSON = "LESSON", _("Lesson")
    MEETING = "MEETING", _("Meeting")


class RoomStatus(models.TextChoices):
    SCHEDULED = "SCHEDULED", _("Scheduled")
    OPEN = "OPEN", _("Open")
    CLOSED = "CLOSED", _("Closed")


class JitsiEnv(models.TextChoices):
    SELF_HOSTED = "SELF_HOSTED", _("Self-hosted Jitsi")
    JAAS = "JAAS", _("8x8 JaaS")


class ClosedReason(models.TextChoices):
    ENDED = "ended", _("Ended")
    FORCED = "forced", _("Closed by staff")
    CANCELLED = "cancelled", _("Lesson cancelled")


class RecordingStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    IN_PROGRESS = "IN_PROGRESS", _("Recording")
    READY = "READY", _("Ready")
    FAILED = "FAILED", _("Failed")


class RecordingStorage(models.TextChoices):
    LOCAL = "LOCAL", _("Local files")
    S3 = "S3", _("S3")
    SFTP = "SFTP", _("SFTP")


class RecordingIssueKind(models.TextChoices):
    """What the hourly recording check found (docs/recordings.md)."""

    ORPHAN = "orphan", _("File no recording refers to")
    MISSING = "missing", _("Ready recording without its file")
    SIZE = "size", _("Size differs")
    CHECKSUM = "sha256", _("SHA-256 differs")


class JoinRole(models.TextChoices):
    MODERATOR = "moderator", _("Moderator")
    PARTICIPANT = "participant", _("Participant")
    OBSERVER = "observer", _("Observer")


class AttendanceSource(models.TextChoices):
    JOIN_API = "join_api", _("Portal join")
    JAAS_WEBHOOK = "jaas_webhook", _("JaaS")
    JITSI_EVENT = "jitsi_event", _("Jitsi (Prosody)")


STAFF_ROLE_GROUPS = ("Director", "Head teacher", "Methodist", "Auditor")


class RegisterStatus(models.TextChoices):
    """An expected participant's place in a lesson's register (docs/register.md)."""

    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    LEFT_EARLY = "left_early", _("Left early")
    ABSENT = "absent", _("Absent")


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder")
    CANCELLED = "cancelled", _("Cancellation")
    RESCHEDULED = "rescheduled", _("Change of time")
    RECORDING_READY = "recording_ready", _("Recording ready")
    REGISTER = "register", _("Register")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    OPTED_OUT = "opted_out", _("Not sent: opted out")
    NO_ADDRESS = "no_address", _("Not sent: no email address")
