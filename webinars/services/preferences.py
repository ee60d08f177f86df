"""Writes on a person's notice preferences (docs/notices.md)."""

from webinars.models import PersonPreferences


def person_preferences_for(*, user) -> PersonPreferences:
    """The user's preferences, unsaved defaults when they never chose (no row needed)."""
    found = PersonPreferences.objects.filter(user=user).first()
    return found or PersonPreferences(user=user)


def person_preferences_update(*, user, language: str, reminders_opt_out: bool) -> PersonPreferences:
    """Store the language of the user's emails and whether they want reminders."""
    preferences, _created = PersonPreferences.objects.get_or_create(user=user)
    preferences.language = language
    preferences.reminders_opt_out = reminders_opt_out
    preferences.full_clean()
    preferences.save()
    return preferences
