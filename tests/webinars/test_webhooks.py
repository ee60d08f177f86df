"""Outbound webhooks (webinars/services/webhooks.py) against a real receiver on 127.0.0.1.

The receiver is a tiny http.server in a thread; the portal reaches it over plain http only
because DEBUG is on in these tests (the outbound policy allows loopback then). Signatures are
checked with the Standard Webhooks reference library, as a receiving school system would.
"""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks import Webhook

from tests.factories import make_lesson, make_recording, make_room
from webinars.choices import JoinRole, RecordingStatus
from webinars.events import RoomOpened, emit
from webinars.models import Attendance, WebhookDelivery, WebhookEndpoint
from webinars.models_webhooks import DeliveryStatus
from webinars.recordings import recording_download, recording_make_dummy
from webinars.services import webhooks
from webinars.services.rooms import room_open
from webinars.services.webhooks import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    webhook_deliveries_send_due,
    webhook_delivery_attempt,
    webhook_signature,
)


class Receiver:
    """Records every POST; answers with the scripted statuses, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict, bytes]] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                status, headers, answer = (
                    receiver.answers.pop(0) if receiver.answers else (200, {}, b"thanks")
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, *statuses: int) -> None:
        self.answers += [(status, {}, b"not now") for status in statuses]

    def verified(self, secret: str) -> list[dict]:
        """Every received payload, each checked the way a receiving system checks it."""
        checker = Webhook(secret)
        return [checker.verify(r["body"], r["headers"]) for r in self.requests]

    def types(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def loopback_allowed(settings):
    """Development mode: the outbound policy lets plain http reach 127.0.0.1."""
    settings.DEBUG = True


@pytest.fixture
def endpoint(receiver, loopback_allowed, db) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=receiver.url(), description="Diary")
    endpoint.full_clean()
    endpoint.save()
    return endpoint


# --- The catalogue, once each, signed ----------------------------------------------------------


@pytest.mark.django_db
def test_a_receiver_on_loopback_gets_each_event_once_with_a_valid_signature(
    receiver, endpoint, django_capture_on_commit_callbacks, settings
):
    settings.RECORDING_DOWNLOAD_HOSTS = ["8x8.vc"]
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        lesson = make_lesson(start=now + timedelta(minutes=5), title="Fractions")
    with django_capture_on_commit_callbacks(execute=True):
        lesson.title = "Fractions, part 2"
        lesson.save()
    room = make_room(lesson)
    with django_capture_on_commit_callbacks(execute=True):
        room_open(room=room, now=lesson.scheduled_start)
    Attendance.objects.create(
        room=room, display_name="Ann", role=JoinRole.PARTICIPANT, joined_at=now
    )
    with django_capture_on_commit_callbacks(execute=True):
        recording_make_dummy(room=room)
    broken = make_recording(
        room, meta={"source": "jaas", "url": "https://evil.test/a.mp4", "attempts": 0}
    )
    with django_capture_on_commit_callbacks(execute=True):
        recording_download(recording_id=broken.pk)
    with django_capture_on_commit_callbacks(execute=True):
        lesson.is_cancelled = True
        lesson.save()

    assert receiver.types() == [
        "lesson.created",
        "lesson.updated",
        "room.opened",
        "recording.ready",
        "recording.failed",
        "lesson.cancelled",
        "room.closed",
        "attendance.finalized",
    ]
    payloads = receiver.verified(endpoint.secret)
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == len(ids)
    assert [p["id"] for p in payloads] == ids
    by_type = {p["type"]: p["data"] for p in payloads}
    assert by_type["lesson.created"]["lesson"]["title"] == "Fractions"
    assert by_type["lesson.updated"]["lesson"]["title"] == "Fractions, part 2"
    assert by_type["lesson.cancelled"]["lesson"]["is_cancelled"] is True
    assert by_type["room.opened"]["room"]["id"] == room.pk
    assert by_type["room.closed"]["room"]["closed_reason"] == "cancelled"
    assert by_type["recording.ready"]["recording"]["status"] == RecordingStatus.READY
    assert "RECORDING_DOWNLOAD_HOSTS" in by_type["recording.failed"]["error"]
    register = by_type["attendance.finalized"]["attendance"]
    assert (register["room_id"], register["sessions"], register["people"]) == (room.pk, 1, 1)
    assert register["csv_url"].endswith(f"/api/rooms/{room.pk}/attendance.csv")
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {
        (DeliveryStatus.DELIVERED, 1)
    }


@pytest.mark.django_db
def test_the_signature_matches_the_standard_webhooks_example():
    """The example of the Standard Webhooks specification, byte for byte."""
    assert (
        webhook_signature(
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            event_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body='{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    assert WebhookEndpoint().secret.startswith("whsec_")
    assert WebhookEndpoint().secret != WebhookEndpoint().secret


@pytest.mark.django_db
def test_a_receiver_with_another_secret_rejects_the_delivery(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    other = WebhookEndpoint().secret
    with pytest.raises(Exception, match="signature"):
        receiver.verified(other)


# --- Retries -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_try(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    receiver.fail(500, 500)
    room = make_room()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        room_open(room=room, now=room.scheduled_start)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        500,
    )
    first_due = delivery.next_attempt_at
    assert before + RETRY_DELAYS[0] <= first_due <= timezone.now() + RETRY_DELAYS[0]

    # Not due yet: the minutely sweep leaves it alone.
    assert webhook_deliveries_send_due(now=first_due - timedelta(seconds=1)) == 0
    assert len(receiver.requests) == 1

    webhook_delivery_attempt(delivery_id=delivery.pk, now=first_due)  # fails again
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (2, DeliveryStatus.PENDING)
    assert delivery.next_attempt_at == first_due + RETRY_DELAYS[1]

    assert webhook_deliveries_send_due(now=delivery.next_attempt_at) == 1  # the third try
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status, delivery.last_status_code) == (
        3,
        DeliveryStatus.DELIVERED,
        200,
    )
    assert receiver.types() == ["room.opened"] * 3
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    assert len({r["body"] for r in receiver.requests}) == 1
    assert len(receiver.verified(endpoint.secret)) == 3
    assert webhook_deliveries_send_due(now=delivery.next_attempt_at or timezone.now()) == 0


@pytest.mark.django_db
def test_a_receiver_that_never_answers_2xx_gets_every_attempt_then_the_delivery_fails(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    receiver.fail(*[503] * (MAX_ATTEMPTS + 2))
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    delivery = WebhookDelivery.objects.get()
    waits = []
    while delivery.status == DeliveryStatus.PENDING:
        due = delivery.next_attempt_at
        webhook_deliveries_send_due(now=due)
        previous_due, delivery = due, WebhookDelivery.objects.get()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - previous_due)
    assert waits == list(RETRY_DELAYS[1:])
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert delivery.last_error == "HTTP 503"
    assert len(receiver.requests) == MAX_ATTEMPTS


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    receiver.answers.append((302, {"Location": receiver.url("/elsewhere")}, b""))
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    delivery = WebhookDelivery.objects.get()
    assert [r["path"] for r in receiver.requests] == ["/hook"]
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "HTTP 302 (redirects are not followed)"


@pytest.mark.django_db
def test_only_a_short_excerpt_of_the_answer_is_kept(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    receiver.answers.append((500, {}, b"x" * 50_000))
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_response == "x" * webhooks.RESPONSE_EXCERPT


@pytest.mark.django_db
def test_a_slow_receiver_times_out_and_is_retried(
    receiver, endpoint, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(webhooks, "READ_TIMEOUT", 0.2)
    receiver.delay = 1.0
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "Timeout" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


# --- The outbound policy ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/hook",
        "https://192.168.1.20/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://localhost/hook",  # a name is judged by the addresses it resolves to
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
    ],
)
def test_private_loopback_and_plain_http_urls_are_refused_when_saved(url):
    with pytest.raises(ValidationError) as exc:
        WebhookEndpoint(url=url).full_clean()
    assert list(exc.value.message_dict) == ["url"]


@pytest.mark.django_db
def test_a_public_https_url_is_accepted_and_debug_allows_only_loopback_over_http(settings):
    WebhookEndpoint(url="https://93.184.215.14/hook").full_clean()
    settings.DEBUG = True
    WebhookEndpoint(url="http://127.0.0.1:8080/hook").full_clean()
    for url in ("http://93.184.215.14/hook", "http://10.0.0.7/hook"):
        with pytest.raises(ValidationError):
            WebhookEndpoint(url=url).full_clean()


@pytest.mark.django_db
def test_a_url_that_resolves_to_loopback_is_refused_when_sent(
    receiver, django_capture_on_commit_callbacks
):
    """Saved when it was fine (or written around the form); refused again at send time."""
    WebhookEndpoint.objects.create(url=f"https://localhost:{receiver.port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "non-public address" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.django_db
def test_the_events_field_must_name_known_events():
    with pytest.raises(ValidationError) as exc:
        WebhookEndpoint(url="https://93.184.215.14/hook", events=["lesson.exploded"]).full_clean()
    assert list(exc.value.message_dict) == ["events"]


# --- Who gets what, and only once -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_domain_event_makes_no_second_delivery(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    room = make_room()
    fact = RoomOpened(room_id=room.pk, lesson_id=room.lesson_id, at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        emit(fact)
        emit(fact)
    with django_capture_on_commit_callbacks(execute=True):
        emit(fact)
    assert WebhookDelivery.objects.count() == 1
    assert receiver.types() == ["room.opened"]


@pytest.mark.django_db
def test_endpoints_get_the_events_they_chose_and_inactive_ones_nothing(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    endpoint.events = ["room.opened"]
    endpoint.save()
    WebhookEndpoint.objects.create(url=receiver.url("/off"), is_active=False)
    room = make_room()  # lesson.created: not chosen
    with django_capture_on_commit_callbacks(execute=True):
        room_open(room=room, now=room.scheduled_start)
    assert [(r["path"], json.loads(r["body"])["type"]) for r in receiver.requests] == [
        ("/hook", "room.opened")
    ]


@pytest.mark.django_db
def test_a_deactivated_endpoint_gets_no_more_retries(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    receiver.fail(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson()
    WebhookEndpoint.objects.update(is_active=False)
    delivery = WebhookDelivery.objects.get()
    webhook_deliveries_send_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "the endpoint is not active"
    assert len(receiver.requests) == 1
