"""API authentication: per-user Bearer tokens, and the join's variant that reads the room too."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from webinars.selectors.viewer import JoinRead, token_and_room_for_joining


class BearerTokenAuthentication(TokenAuthentication):
    """Per-user API tokens sent as ``Authorization: Bearer <token>``."""

    keyword = "Bearer"


@dataclass(frozen=True, slots=True)
class JoiningToken:
    """``request.auth`` of a Bearer join: the token, and the room read with it (None: no room
    has the URL's id) together with the token user's facts for it."""

    token: Token
    join_read: JoinRead | None


class JoiningBearerAuthentication(BearerTokenAuthentication):
    """Bearer tokens on ``POST /api/rooms/{room_id}/join/``, read with the room being joined.

    The join is the hot path of a school assembly: the token, its user, the room, its lesson
    and the user's role facts come in one statement instead of two. Same answers as
    ``BearerTokenAuthentication``, except that ``request.auth`` is a ``JoiningToken`` (DRF lets
    ``auth`` be any object), which hands the view the room it has already read.
    """

    def authenticate(self, request):
        self.room_id = request.parser_context["kwargs"]["room_id"]
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        loaded = token_and_room_for_joining(key=key, pk=self.room_id)
        if loaded is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, join_read = loaded
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, JoiningToken(token=token, join_read=join_read)


# The same Bearer scheme as BearerTokenAuthentication: one "tokenAuth" entry in the schema.
set_override(JoiningBearerAuthentication, "suppress_collision_warning", True)
