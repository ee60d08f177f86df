"""Admin actions on rooms, recordings and lessons: confirm, call one service, report in words."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic import DeleteView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from webinars.choices import ClosedReason, RoomStatus
from webinars.models import Recording, Room


class ConfirmActionView(WagtailAdminTemplateMixin, TemplateView):
    """A confirmation page (GET) and the action itself (POST, CSRF-protected)."""

    model = Room
    template_name = "webinars/admin/confirm_action.html"
    header_icon = "link"
    action_label = ""
    question = ""
    index_url_name = ""
    permission = "change"

    def dispatch(self, request, pk):
        self.object = get_object_or_404(self.model, pk=pk)
        opts = self.model._meta
        if not request.user.has_perm(f"{opts.app_label}.{self.permission}_{opts.model_name}"):
            raise PermissionDenied
        return super().dispatch(request, pk)

    def get_page_title(self):
        return self.action_label

    def get_page_subtitle(self):
        return str(self.object)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            object=self.object,
            question=self.question % {"object": self.object},
            action_label=self.action_label,
            cancel_url=self.success_url(),
            **kwargs,
        )

    def success_url(self):
        from django.urls import reverse

        return reverse(self.index_url_name)

    def post(self, request, pk):
        try:
            message = self.perform()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, message)
        return redirect(self.success_url())

    def perform(self) -> str:
        raise NotImplementedError


class RoomCloseView(ConfirmActionView):
    action_label = _("Close room now")
    question = _("Close %(object)s now? Everyone still inside can no longer rejoin.")
    index_url_name = "rooms:index"

    def perform(self) -> str:
        from webinars.services.rooms import room_close

        if self.object.status == RoomStatus.CLOSED:
            raise ValidationError(_("This room is already closed."))
        room_close(room=self.object, reason=ClosedReason.FORCED)
        return _("Room “%(room)s” closed.") % {"room": self.object}


class RoomRegenerateLinkView(ConfirmActionView):
    action_label = _("Regenerate public link")
    question = _(
        "Make a new public link for %(object)s? The old link stops working at once; "
        "share the new one again."
    )
    index_url_name = "rooms:index"

    def perform(self) -> str:
        from webinars.services.joins import room_regenerate_public_slug

        room = room_regenerate_public_slug(room=self.object)
        return _("New public link: /join/%(slug)s/") % {"slug": room.public_slug}


class RoomOpenInJitsiView(ConfirmActionView):
    """Joins the room with the admin's own role and freshly minted token."""

    http_method_names = ["get"]
    index_url_name = "rooms:index"

    def get(self, request, pk):
        from webinars.services.joins import JoinRefused, room_join_user

        try:
            result = room_join_user(
                room=self.object, user=request.user, ip=request.META.get("REMOTE_ADDR", "")
            )
        except JoinRefused as refusal:
            messages.error(request, str(refusal.detail))
            return redirect(self.success_url())
        return redirect(result.join_url)


class RecordingRetryView(ConfirmActionView):
    """Recovers what can be: a file already in storage, the Jibri file, the download link."""

    model = Recording
    header_icon = "media"
    action_label = _("Retry recording download")
    question = _("Bring the file of %(object)s into storage again?")
    index_url_name = "recordings:index"

    def perform(self) -> str:
        from webinars.choices import RecordingStatus
        from webinars.recordings import RecordingRejected, recording_retry

        try:
            recording = recording_retry(recording=self.object)
        except RecordingRejected as refusal:
            raise ValidationError(str(refusal)) from refusal
        if recording.status == RecordingStatus.READY:
            return _("The recording of “%(room)s” is ready.") % {"room": recording.room}
        if recording.status == RecordingStatus.FAILED:
            raise ValidationError(recording.meta.get("error") or _("The retry failed."))
        return _("Download of “%(recording)s” queued again.") % {"recording": recording}


class LessonDeleteView(DeleteView):
    """Deleting a lesson whose room holds a READY recording is refused with the reason."""

    def delete_action(self):
        from webinars.services.lessons import lesson_delete

        lesson_delete(lesson=self.object)

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect(self.get_success_url())


class WebinarsDashboardPanel(Component):
    """The admin home panel: rooms live now, the next 24 hours, failed recordings."""

    name = "webinars_today"
    template_name = "webinars/admin/dashboard_panel.html"
    order = 50

    def get_context_data(self, parent_context):
        from webinars.selectors.dashboard import admin_dashboard

        context = super().get_context_data(parent_context)
        context.update(admin_dashboard(), zone=settings.TIME_ZONE)
        return context
