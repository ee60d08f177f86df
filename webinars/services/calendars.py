"""Writes on calendar subscriptions."""

from webinars.models import CalendarToken, new_public_slug


def calendar_token_for(*, user) -> CalendarToken:
    """The user's personal feed token, created on first use."""
    token, _created = CalendarToken.objects.get_or_create(user=user)
    return token


def calendar_token_regenerate(*, user) -> CalendarToken:
    """A new secret for the feed: calendar apps holding the old URL stop receiving updates."""
    token = calendar_token_for(user=user)
    token.token = new_public_slug()
    token.full_clean()
    token.save(update_fields=["token"])
    return token
