"""API authentication: per-user Bearer tokens, and the join's variant that reads the room too."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from webinars.selectors.viewer import token_and_room_for_joining


class BearerTokenAuthentication(TokenAuthentication):
    """Per-user API tokens sent as ``Authorization: Bearer <token>``."""

    keyword = "Bearer"


class JoiningBearerAuthentication(BearerTokenAuthentication):
    """Bearer tokens on ``POST /api/rooms/{room_id}/join/``, read with the room being joined.

    The join is the hot path of a school assembly: the token, its user, the room, its lesson
    and the user's role facts come in one statement instead of two. Same answers as
    ``BearerTokenAuthentication``; the room (or None) is left on the request as
    ``joining_room`` for the view.
    """

    def authenticate(self, request):
        self.room_id = request.parser_context["kwargs"]["room_id"]
        self.room = None
        authenticated = super().authenticate(request)
        if authenticated is not None:
            request.joining_room = self.room
        return authenticated

    def authenticate_credentials(self, key):
        loaded = token_and_room_for_joining(key=key, pk=self.room_id)
        if loaded is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, self.room = loaded
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token


# The same Bearer scheme as BearerTokenAuthentication: one "tokenAuth" entry in the schema.
set_override(JoiningBearerAuthentication, "suppress_collision_warning", True)
