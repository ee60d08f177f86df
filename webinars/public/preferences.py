"""The settings part of "My lessons": notice preferences and the calendar link's renewal.

Both are small POST forms on ``/my/`` (CSRF-protected) that redirect back to it.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from webinars.services.calendars import calendar_token_regenerate
from webinars.services.preferences import person_preferences_for, person_preferences_update


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of emails"),
        choices=[("", gettext_lazy("The school's language")), *settings.LANGUAGES],
        required=False,
    )
    reminders_opt_out = forms.BooleanField(
        label=gettext_lazy("No reminders before lessons"),
        help_text=gettext_lazy("Cancellations, changes of time and recordings are still sent."),
        required=False,
    )


def preferences_form_for(user) -> PreferencesForm:
    chosen = person_preferences_for(user=user)
    return PreferencesForm(
        initial={"language": chosen.language, "reminders_opt_out": chosen.reminders_opt_out}
    )


@require_POST
@login_required
def my_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if form.is_valid():
        person_preferences_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your notice settings are saved."))
    else:
        messages.error(request, _("Choose one of the languages offered."))
    return redirect("webinars:my")


@require_POST
@login_required
def my_calendar_regenerate(request: HttpRequest) -> HttpResponse:
    """A new private calendar link; the old one stops working at once."""
    calendar_token_regenerate(user=request.user)
    messages.success(
        request,
        _("Your calendar link is new. Subscribe again with it; the old link no longer works."),
    )
    return redirect("webinars:my")
