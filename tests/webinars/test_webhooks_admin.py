"""The webhooks admin as a superuser uses it: endpoints, secrets, the delivery log, redeliver."""

import json

import pytest
from django.urls import reverse

from tests.factories import make_lesson, make_user
from tests.webinars import test_webhooks as shared
from webinars.models import WebhookDelivery, WebhookEndpoint
from webinars.models_webhooks import DeliveryStatus

# The receiver on 127.0.0.1 and its endpoint, shared with the delivery tests.
receiver, loopback_allowed, endpoint = shared.receiver, shared.loopback_allowed, shared.endpoint


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_an_admin_adds_an_endpoint_with_chosen_events_and_sees_its_secret(admin_client):
    response = admin_client.post(
        reverse("webhook_endpoints:add"),
        {
            "url": "https://93.184.215.14/cedar",
            "description": "Parents' app",
            "events": ["room.opened", "recording.ready"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["room.opened", "recording.ready"]
    assert endpoint.secret.startswith("whsec_")

    page = admin_client.get(reverse("webhook_endpoints:inspect", args=[endpoint.pk]))
    assert endpoint.secret in page.content.decode()
    listing = admin_client.get(reverse("webhook_endpoints:index")).content.decode()
    assert "Parents&#x27; app" in listing or "Parents' app" in listing
    assert endpoint.secret not in listing


@pytest.mark.django_db
def test_the_admin_refuses_a_private_address_naming_the_field(admin_client):
    response = admin_client.post(
        reverse("webhook_endpoints:add"),
        {"url": "https://192.168.1.10/hook", "description": "", "events": []},
    )
    assert response.status_code == 200
    assert "non-public address" in " ".join(response.context["form"].errors["url"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_regenerating_the_secret_replaces_it(admin_client):
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.215.14/hook")
    old = endpoint.secret
    url = reverse("webhook_endpoints:regenerate_secret", args=[endpoint.pk])
    assert admin_client.get(url).status_code == 200  # the confirmation page
    response = admin_client.post(url, follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()  # shown once, in the message


@pytest.mark.django_db
def test_the_delivery_log_filters_inspects_and_redelivers(
    admin_client, receiver, endpoint, django_capture_on_commit_callbacks
):
    receiver.fail(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_lesson(title="Algebra")
        make_lesson(title="Botany")
    failed, delivered = WebhookDelivery.objects.order_by("id")
    assert (failed.status, delivered.status) == (DeliveryStatus.PENDING, DeliveryStatus.DELIVERED)

    index = reverse("webhook_deliveries:index")
    pending_only = admin_client.get(index, {"status": "pending"}).content.decode()
    assert reverse("webhook_deliveries:inspect", args=[failed.pk]) in pending_only
    assert reverse("webhook_deliveries:inspect", args=[delivered.pk]) not in pending_only
    by_event = admin_client.get(index, {"event_type": "room.closed", "endpoint": endpoint.pk})
    assert reverse("webhook_deliveries:inspect", args=[failed.pk]) not in by_event.content.decode()

    page = admin_client.get(reverse("webhook_deliveries:inspect", args=[failed.pk]))
    text = page.content.decode()
    assert failed.event_id in text and "Algebra" in text and "HTTP 500" in text

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhook_deliveries:redeliver", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.DELIVERED, 1)
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert ids == [failed.event_id, delivered.event_id, failed.event_id]
    assert json.loads(receiver.requests[-1]["body"])["data"]["lesson"]["title"] == "Algebra"


@pytest.mark.django_db
def test_the_delivery_log_cannot_be_written_by_hand(admin_client, receiver, endpoint):
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="lesson.created", event_id="evt_x", payload={}
    )
    assert admin_client.get(reverse("webhook_deliveries:add")).status_code in (302, 403)
    edit = admin_client.get(reverse("webhook_deliveries:edit", args=[delivery.pk]))
    assert edit.status_code in (302, 403)
    delete = admin_client.post(reverse("webhook_deliveries:delete", args=[delivery.pk]))
    assert delete.status_code in (302, 403)
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()


@pytest.mark.django_db
def test_people_without_the_permission_cannot_redeliver(client, receiver, endpoint):
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="lesson.created", event_id="evt_y", payload={}
    )
    client.force_login(make_user("editor", is_staff=True))
    response = client.post(reverse("webhook_deliveries:redeliver", args=[delivery.pk]))
    assert response.status_code in (302, 403)
    assert receiver.requests == []
