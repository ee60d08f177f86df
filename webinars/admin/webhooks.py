"""Wagtail admin for outbound webhooks: the endpoints, and the log of every delivery.

Endpoints are edited here (the URL is checked against the outbound policy when saved) and can
get a new secret; deliveries are read-only, filtered by endpoint, status and event, inspected
with their payload, and sent again with "Redeliver" (docs/webhooks.md).
"""

import json

import django_filters
from django import forms
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.admin.common import RowAction, SchoolIndexView, zoned_column
from webinars.admin_views import ConfirmActionView
from webinars.models import WebhookDelivery, WebhookEndpoint
from webinars.models_webhooks import DeliveryStatus, WebhookEventType


class DeliveryLogPermissionPolicy(ModelPermissionPolicy):
    """The delivery log is written by the portal only: nobody adds, edits or deletes rows."""

    def user_has_permission(self, user, action):
        return action not in ("add", "change", "delete") and super().user_has_permission(
            user, action
        )

    def user_has_any_permission(self, user, actions):
        allowed = [a for a in actions if a not in ("add", "change", "delete")]
        return super().user_has_any_permission(user, allowed)


register_permission_policy(WebhookDelivery, DeliveryLogPermissionPolicy(WebhookDelivery))


# --- Endpoints -----------------------------------------------------------------------------------


class WebhookEndpointForm(WagtailAdminModelForm):
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event, also those added later."),
    )


class WebhookEndpointInspectView(InspectView):
    def get_events_display_value(self):
        return ", ".join(self.object.events) or _("every event")


class RegenerateSecretView(ConfirmActionView):
    model = WebhookEndpoint
    header_icon = "key"
    action_label = _("Regenerate secret")
    question = _(
        "Make a new signing secret for %(object)s? Deliveries signed with the old one fail "
        "verification from now on: put the new secret into the receiving system."
    )
    index_url_name = "webhook_endpoints:index"

    def perform(self) -> str:
        from webinars.services.webhooks import webhook_endpoint_regenerate_secret

        endpoint = webhook_endpoint_regenerate_secret(endpoint=self.object)
        return _("New secret for “%(endpoint)s”: %(secret)s") % {
            "endpoint": endpoint,
            "secret": endpoint.secret,
        }


class WebhookEndpointViewSet(ModelViewSet):
    model = WebhookEndpoint
    icon = "link-external"
    menu_label = _("Endpoints")
    list_display = [
        "url",
        "description",
        Column("events", label=_("Events"), accessor=lambda e: ", ".join(e.events) or "*"),
        Column("is_active", label=_("Active")),
        zoned_column("created_at", _("Created")),
    ]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = WebhookEndpointInspectView
    inspect_view_fields = ["url", "description", "events", "is_active", "secret", "created_at"]
    edit_handler = ObjectList(
        [FieldPanel(name) for name in ("url", "description", "events", "is_active")],
        base_form_class=WebhookEndpointForm,
    )

    class index_view_class(SchoolIndexView):  # noqa: N801 - Wagtail's attribute name
        row_actions = [RowAction("regenerate_secret", _("Regenerate secret"), "key")]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path(
                "regenerate-secret/<int:pk>/",
                RegenerateSecretView.as_view(),
                name="regenerate_secret",
            ),
        ]


# --- Deliveries ----------------------------------------------------------------------------------


class WebhookDeliveryFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    event_type = django_filters.ChoiceFilter(choices=WebhookEventType.choices, label=_("Event"))

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]


class WebhookDeliveryInspectView(InspectView):
    def get_payload_display_value(self):
        return format_html("<pre>{}</pre>", json.dumps(self.object.payload, indent=2))


class RedeliverView(ConfirmActionView):
    model = WebhookDelivery
    header_icon = "rotate"
    action_label = _("Redeliver")
    question = _("Send %(object)s again now, with the same event id?")
    index_url_name = "webhook_deliveries:index"

    def perform(self) -> str:
        from webinars.services.webhooks import webhook_delivery_redeliver

        delivery = webhook_delivery_redeliver(delivery=self.object)
        return _("“%(delivery)s” queued again (now %(status)s).") % {
            "delivery": delivery,
            "status": delivery.get_status_display(),
        }


class WebhookDeliveryViewSet(ModelViewSet):
    model = WebhookDelivery
    icon = "list-ul"
    menu_label = _("Delivery log")
    form_fields = []
    list_display = [
        "event_type",
        Column("endpoint", label=_("Endpoint")),
        Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
        Column("attempts", label=_("Attempts")),
        Column("last_status_code", label=_("Last HTTP status")),
        zoned_column("created_at", _("Created")),
        zoned_column("next_attempt_at", _("Next attempt")),
    ]
    filterset_class = WebhookDeliveryFilterSet
    search_fields = ["event_id"]
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = WebhookDeliveryInspectView
    inspect_view_fields = [
        "endpoint",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "last_response",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "payload",
    ]

    def get_queryset(self, request):
        return WebhookDelivery.objects.select_related("endpoint")

    class index_view_class(SchoolIndexView):  # noqa: N801 - Wagtail's attribute name
        row_actions = [RowAction("redeliver", _("Redeliver"), "rotate")]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("redeliver/<int:pk>/", RedeliverView.as_view(), name="redeliver"),
        ]


class WebhooksViewSetGroup(ModelViewSetGroup):
    menu_label = _("Webhooks")
    menu_icon = "link-external"
    menu_order = 210
    items = (
        WebhookEndpointViewSet("webhook_endpoints"),
        WebhookDeliveryViewSet("webhook_deliveries"),
    )
