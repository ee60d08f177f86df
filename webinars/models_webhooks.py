"""Outbound webhooks: the school's systems that want our events, and each delivery to them.

Event types, payloads, signatures and retries are described in docs/webhooks.md; the writes
are in ``webinars.services.webhooks``.
"""

import base64
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from webinars.outbound import OutboundError, OutboundRefused, target_resolve

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEventType(models.TextChoices):
    LESSON_CREATED = "lesson.created", _("Lesson created")
    LESSON_UPDATED = "lesson.updated", _("Lesson updated")
    LESSON_CANCELLED = "lesson.cancelled", _("Lesson cancelled")
    ROOM_OPENED = "room.opened", _("Room opened")
    ROOM_CLOSED = "room.closed", _("Room closed")
    RECORDING_READY = "recording.ready", _("Recording ready")
    RECORDING_FAILED = "recording.failed", _("Recording failed")
    ATTENDANCE_FINALIZED = "attendance.finalized", _("Attendance finalized")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookEndpoint(models.Model):
    """A URL of the school's other systems that is sent the events it asked for."""

    url = models.URLField(
        _("URL"),
        max_length=500,
        help_text=_("An https address on the internet; private and local networks are refused."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(
        _("signing secret"), max_length=100, default=new_webhook_secret, editable=False
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("The event types to send; none ticked sends every event."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["url", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def clean(self) -> None:
        super().clean()
        errors = {}
        if not isinstance(self.events, list) or not set(self.events) <= set(
            WebhookEventType.values
        ):
            errors["events"] = _("Choose event types from the list (or none, for every event).")
        if self.url:
            try:
                target_resolve(url=self.url)
            except OutboundRefused as exc:
                errors["url"] = _("This address is refused: %(reason)s.") % {"reason": exc}
            except OutboundError as exc:
                errors["url"] = _("This address cannot be checked now: %(reason)s.") % {
                    "reason": exc
                }
        if errors:
            raise ValidationError(errors)

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint: its payload, and how sending it went so far."""

    # Written by background tasks and never referenced by editorial content.
    wagtail_reference_index_ignore = True

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_type = models.CharField(_("event"), max_length=32, choices=WebhookEventType.choices)
    event_id = models.CharField(_("event id"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_response = models.CharField(_("last response (start)"), max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
