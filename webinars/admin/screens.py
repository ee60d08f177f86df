"""What the screens of the system's own rows (rooms, recordings, attendance, join decisions,
the recording check's findings) add to ``common``: no "Add" (or no edits at all), read-only
fields in words on edit forms, and their viewset base."""

from collections.abc import Callable
from datetime import datetime

from wagtail.admin.panels import FieldPanel
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.admin.common import SchoolModelViewSet
from webinars.models import Attendance, JoinAudit, Recording, RecordingCheckIssue, Room
from webinars.wording import yes_no, zoned


class ServerOwnedPermissionPolicy(ModelPermissionPolicy):
    """Rows the system writes (rooms, recordings, attendance, audits): no "Add" in the admin.

    Recordings are not edited by hand either (a status set by hand would make a READY row
    without its file; they change through their ingest and the "retry" action, see
    docs/recordings.md), and the recording check's findings are only looked at.
    """

    def __init__(self, model, *, denied: tuple[str, ...] = ("add",)):
        super().__init__(model)
        self.denied = frozenset(denied)

    def user_has_permission(self, user, action):
        return action not in self.denied and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [a for a in actions if a not in self.denied])


for _server_owned, _denied in (
    (Room, ("add",)),
    (Attendance, ("add",)),
    (JoinAudit, ("add",)),
    (Recording, ("add", "change")),
    (RecordingCheckIssue, ("add", "change", "delete")),
):
    register_permission_policy(
        _server_owned, ServerOwnedPermissionPolicy(_server_owned, denied=_denied)
    )


class ShownPanel(FieldPanel):
    """A read-only field on an edit form, in the school's words (``show`` says the value)."""

    def __init__(self, field_name, *, show: Callable | None = None, **kwargs):
        kwargs["read_only"] = True
        super().__init__(field_name, **kwargs)
        self.show = show

    def clone_kwargs(self):
        return {**super().clone_kwargs(), "show": self.show}

    def format_value_for_display(self, value):
        if self.show is not None:
            return self.show(value)
        if isinstance(value, datetime):
            return zoned(value)
        if isinstance(value, bool):
            return yes_no(value)
        return super().format_value_for_display(value) or "—"


class ServerOwnedViewSet(SchoolModelViewSet):
    """Rows the system writes: listed, filtered, inspected and exported; never copied."""

    inspect_view_enabled = True
    copy_view_enabled = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.model.objects.select_related(*self.select_related)
