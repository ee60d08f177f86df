"""The public pages' forms: the guest join form and the open-lessons filter."""

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ValidationError as ApiValidationError

from webinars.models import Subject


class GuestJoinForm(forms.Form):
    """A guest's display name; a signed-in visitor joins under their own name (no field)."""

    display_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Shown to the other participants. Leave empty to appear as Guest."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if signed_in:
            del self.fields["display_name"]

    def add_join_errors(self, exc: DjangoValidationError | ApiValidationError) -> None:
        """Show the joins service's refusal of the name next to the field, as the API's
        ``{"display_name": [...]}`` would have said it."""
        field = "display_name" if "display_name" in self.fields else None
        for message in _messages_of(exc):
            self.add_error(field, message)


def _messages_of(exc: DjangoValidationError | ApiValidationError) -> list[str]:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return [m for msgs in exc.message_dict.values() for m in msgs]
        return list(exc.messages)
    detail = exc.detail
    if isinstance(detail, dict):
        return [
            str(m) for msgs in detail.values() for m in (msgs if isinstance(msgs, list) else [msgs])
        ]
    return [str(m) for m in (detail if isinstance(detail, list) else [detail])]


class LessonFilterForm(forms.Form):
    """The open-lessons page's GET filter: subject and day (in the school's zone)."""

    subject = forms.ChoiceField(
        label=gettext_lazy("Subject"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a subject from the list.")},
    )
    day = forms.DateField(
        label=gettext_lazy("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": gettext_lazy("Enter a date like 2026-09-01.")},
    )

    def __init__(self, *args, subjects=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The choices come from the list the page already loaded: no query of their own.
        self._subjects = {str(subject.pk): subject for subject in subjects}
        self.fields["subject"].choices = [("", _("All subjects"))] + [
            (key, subject.name) for key, subject in self._subjects.items()
        ]

    def clean_subject(self) -> Subject | None:
        return self._subjects.get(self.cleaned_data["subject"])
