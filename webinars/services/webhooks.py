"""Outbound webhooks: domain events become signed deliveries, sent until they land or fail.

The subscribers below hear the domain events (``webinars.events``, after commit) and write one
``WebhookDelivery`` per active endpoint that wants the event — at most one per endpoint and
event id, so a replayed or duplicated domain event never sends twice — then queue the first
attempt (``webinars.tasks.deliver_webhook``). A failed attempt waits with backoff; the
minutely ``webinars.tasks.deliver_due_webhooks`` sends those that are due again. Every request
goes through the outbound policy (``webinars.outbound``). docs/webhooks.md has the catalogue,
the signature and the rules.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta

import urllib3
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from webinars.choices import RecordingStatus
from webinars.events import (
    Event,
    LessonCancelled,
    LessonCreated,
    LessonUpdated,
    RecordingStateChanged,
    RoomClosed,
    RoomOpened,
    lesson_cancelled,
    lesson_created,
    lesson_updated,
    recording_state_changed,
    room_closed,
    room_opened,
)
from webinars.models_webhooks import (
    SECRET_PREFIX,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    new_webhook_secret,
)
from webinars.outbound import OutboundError, OutboundRefused, target_open, target_resolve
from webinars.selectors.webhook_payloads import (
    attendance_data,
    iso,
    lesson_data,
    recording_data,
    room_data,
)

logger = logging.getLogger("webinars.webhooks")

TASK = "webinars.tasks.deliver_webhook"
# After attempt n fails, attempt n + 1 waits RETRY_DELAYS[n - 1]: about 28 hours in all.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 10  # seconds; a receiver should answer at once and work later
CLAIM_FOR = timedelta(minutes=2)  # an attempt in flight is not started again meanwhile
RESPONSE_EXCERPT = 200  # characters of the receiver's answer kept for the delivery log
SWEEP_BUDGET_SECS = 40  # the minutely sweep stops starting attempts after this


# --- Signing ---------------------------------------------------------------------------------


def webhook_signature(*, secret: str, event_id: str, timestamp: int, body: str) -> str:
    """``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` (Standard Webhooks).

    The key is the secret's bytes: the base64 behind ``whsec_``.
    """
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_endpoint_regenerate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret; the old one stops working at once, also for pending retries."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret"])
    logger.info("webhook secret regenerated endpoint=%s", endpoint.pk)
    return endpoint


# --- From domain events to deliveries ----------------------------------------------------------


def webhook_event_id(*, event_type: str, source: Event) -> str:
    """The same domain event gives the same id, so a replay finds its deliveries made."""
    facts = "|".join(str(value) for value in astuple(source))
    return "evt_" + hashlib.sha256(f"{event_type}|{facts}".encode()).hexdigest()[:32]


def webhook_event_send(
    *, event_type: str, source: Event, at: datetime, data: Callable[[], dict | None]
) -> list[int]:
    """One delivery per active endpoint that wants ``event_type``; returns the new ids.

    ``data`` is read only when some endpoint still needs the event, so an event nobody
    listens to costs one query. The first attempts are queued once the rows are committed.
    """
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(event_type)]
    if not endpoints:
        return []
    event_id = webhook_event_id(event_type=event_type, source=source)
    made = set(
        WebhookDelivery.objects.filter(event_id=event_id, endpoint__in=endpoints).values_list(
            "endpoint_id", flat=True
        )
    )
    endpoints = [endpoint for endpoint in endpoints if endpoint.pk not in made]
    body = data() if endpoints else None
    if body is None:  # nothing new, or the object is gone
        return []
    payload = {"id": event_id, "type": event_type, "timestamp": iso(at), "data": body}
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event_type=event_type,
                event_id=event_id,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,  # a concurrent replay of the same event wins
    )
    ids = list(
        WebhookDelivery.objects.filter(
            event_id=event_id, endpoint__in=endpoints, attempts=0, status=DeliveryStatus.PENDING
        ).values_list("id", flat=True)
    )
    transaction.on_commit(lambda: _queue(ids))
    return ids


def _queue(ids: list[int]) -> None:
    for delivery_id in ids:
        async_task(TASK, delivery_id, task_name=f"webhook-delivery-{delivery_id}")


@receiver(lesson_created, dispatch_uid="webinars.webhooks.lesson_created")
@receiver(lesson_updated, dispatch_uid="webinars.webhooks.lesson_updated")
@receiver(lesson_cancelled, dispatch_uid="webinars.webhooks.lesson_cancelled")
def lesson_changed(sender, event: LessonCreated | LessonUpdated | LessonCancelled, **kwargs):
    event_type = {
        LessonCreated: WebhookEventType.LESSON_CREATED,
        LessonUpdated: WebhookEventType.LESSON_UPDATED,
        LessonCancelled: WebhookEventType.LESSON_CANCELLED,
    }[type(event)]
    webhook_event_send(
        event_type=event_type,
        source=event,
        at=event.at,
        data=lambda: lesson_data(lesson_id=event.lesson_id),
    )


@receiver(room_opened, dispatch_uid="webinars.webhooks.room_opened")
def room_was_opened(sender, event: RoomOpened, **kwargs):
    webhook_event_send(
        event_type=WebhookEventType.ROOM_OPENED,
        source=event,
        at=event.at,
        data=lambda: room_data(room_id=event.room_id),
    )


@receiver(room_closed, dispatch_uid="webinars.webhooks.room_closed")
def room_was_closed(sender, event: RoomClosed, **kwargs):
    """A closed room also makes its register final: ``attendance.finalized`` follows."""
    webhook_event_send(
        event_type=WebhookEventType.ROOM_CLOSED,
        source=event,
        at=event.at,
        data=lambda: room_data(room_id=event.room_id),
    )
    webhook_event_send(
        event_type=WebhookEventType.ATTENDANCE_FINALIZED,
        source=event,
        at=event.at,
        data=lambda: attendance_data(room_id=event.room_id, closed_at=event.at),
    )


@receiver(recording_state_changed, dispatch_uid="webinars.webhooks.recording_state_changed")
def recording_state_moved(sender, event: RecordingStateChanged, **kwargs):
    """Only the ends of a recording's way are announced: READY and FAILED."""
    event_type = {
        RecordingStatus.READY: WebhookEventType.RECORDING_READY,
        RecordingStatus.FAILED: WebhookEventType.RECORDING_FAILED,
    }.get(event.status)
    if event_type is None:
        return
    webhook_event_send(
        event_type=event_type,
        source=event,
        at=event.at,
        data=lambda: recording_data(recording_id=event.recording_id),
    )


# --- Sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    permanent: bool = False  # the policy refused the URL: no retry can fix it

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def webhook_retry_delay(*, attempt: int) -> timedelta:
    """How long after failed attempt ``attempt`` (1-based) the next one is due."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]


def webhook_delivery_attempt(
    *, delivery_id: int, now: datetime | None = None
) -> WebhookDelivery | None:
    """Send a pending delivery that is due at ``now``; None when there was nothing to send.

    The row is claimed first (one conditional UPDATE), so the first attempt's task, the sweep
    and an admin's redelivery racing each other still send once. 2xx is delivered; anything
    else — a redirect too, as none is followed — is retried after ``webhook_retry_delay``
    until MAX_ATTEMPTS, a refused address fails at once.
    """
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_FOR)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.endpoint.is_active:
        outcome = _post(delivery)
    else:
        outcome = _Outcome(error="the endpoint is not active", permanent=True)
    delivery.last_status_code = outcome.status_code
    delivery.last_response = outcome.excerpt
    delivery.last_error = outcome.error[:500]
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.DELIVERED,
            now,
            None,
        )
    elif outcome.permanent or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = now + webhook_retry_delay(attempt=delivery.attempts)
    delivery.save(
        update_fields=[
            "status",
            "last_status_code",
            "last_response",
            "last_error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    logger.info(
        "webhook attempt delivery=%s endpoint=%s event=%s attempt=%s status=%s outcome=%s",
        delivery.pk,
        delivery.endpoint_id,
        delivery.event_type,
        delivery.attempts,
        outcome.status_code,
        delivery.status,
    )
    return delivery


def webhook_request(*, delivery: WebhookDelivery, timestamp: int) -> tuple[bytes, dict]:
    """The body and headers of an attempt; the same event id on every retry."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    signature = webhook_signature(
        secret=delivery.endpoint.secret,
        event_id=delivery.event_id,
        timestamp=timestamp,
        body=body,
    )
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
    return body.encode(), headers


def _post(delivery: WebhookDelivery) -> _Outcome:
    # The timestamp is the moment the request leaves: receivers compare it with their clock.
    body, headers = webhook_request(delivery=delivery, timestamp=int(time.time()))
    try:
        target = target_resolve(url=delivery.endpoint.url)
        response = target_open(
            target,
            method="POST",
            body=body,
            headers=headers,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
    except OutboundRefused as exc:
        return _Outcome(error=str(exc), permanent=True)
    except OutboundError as exc:
        return _Outcome(error=str(exc))
    try:
        raw = response.read(RESPONSE_EXCERPT * 4, decode_content=True)
        excerpt = raw.decode("utf-8", "replace").strip()[:RESPONSE_EXCERPT]
    except urllib3.exceptions.HTTPError as exc:
        excerpt = f"(the answer broke off: {type(exc).__name__})"
    finally:
        response.close()
    status_code = response.status
    error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
    if 300 <= status_code < 400:
        error += " (redirects are not followed)"
    return _Outcome(status_code=status_code, excerpt=excerpt, error=error)


def webhook_deliveries_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send the deliveries whose retry is due (the minutely sweep); returns how many were tried.

    Also picks up a first attempt whose task was lost (a worker killed, a broker emptied). It
    stops starting attempts after SWEEP_BUDGET_SECS; the rest wait for the next minute.
    """
    now = now or timezone.now()
    started = time.monotonic()
    due = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    tried = 0
    for delivery_id in list(due):
        if time.monotonic() - started > SWEEP_BUDGET_SECS:
            break
        if webhook_delivery_attempt(delivery_id=delivery_id, now=now) is not None:
            tried += 1
    return tried


def webhook_delivery_redeliver(
    *, delivery: WebhookDelivery, now: datetime | None = None
) -> WebhookDelivery:
    """The admin's "Redeliver": send it again now, with a fresh count of attempts.

    The event id stays, so a receiver that already had it can tell it is the same event.
    """
    now = now or timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, delivered_at=None
    )
    logger.info("webhook redelivery delivery=%s endpoint=%s", delivery.pk, delivery.endpoint_id)
    transaction.on_commit(lambda: _queue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery
