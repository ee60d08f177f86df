"""API authentication: per-app Bearer tokens (``ApiToken``), and the join's variant that reads
the room too (docs/tokens.md, "API tokens for apps")."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from webinars.models import ApiToken
from webinars.selectors.tokens import api_token_for_key
from webinars.selectors.viewer import JoinRead, token_and_room_for_joining
from webinars.services.tokens import api_token_touch


def accepted(token: ApiToken | None):
    """``(user, token)`` for a token that may sign its user in; else 401 saying why.

    Unknown (or revoked: deleted) keys, expired tokens and inactive users are refused; an
    accepted token's ``last_used_at`` is noted (at most once an hour: ``api_token_touch``).
    """
    if token is None:
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    if token.is_expired():
        raise exceptions.AuthenticationFailed(
            _("This API token has expired: sign in again for a new one.")
        )
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
    api_token_touch(token=token)
    return token.user, token


class BearerTokenAuthentication(TokenAuthentication):
    """API tokens sent as ``Authorization: Bearer <key>``; ``request.auth`` is the ``ApiToken``.

    The key is looked up by its SHA-256 digest through the digest's unique index. DRF compares
    nothing itself and neither does this: there is no raw key to compare in constant time, and
    what the lookup's timing could reveal (part of a digest) does not help to forge a key.
    """

    keyword = "Bearer"

    def authenticate_credentials(self, key):
        return accepted(api_token_for_key(key=key))


@dataclass(frozen=True, slots=True)
class JoiningToken:
    """``request.auth`` of a Bearer join: the token, and the room read with it (None: no room
    has the URL's id) together with the token user's facts for it."""

    token: ApiToken
    join_read: JoinRead | None


class JoiningBearerAuthentication(BearerTokenAuthentication):
    """Bearer tokens on ``POST /api/rooms/{room_id}/join/``, read with the room being joined.

    The join is the hot path of a school assembly: the token, its user, the room, its lesson
    and the user's role facts come in one statement instead of two. Same answers as
    ``BearerTokenAuthentication`` (``accepted``), except that ``request.auth`` is a
    ``JoiningToken`` (DRF lets ``auth`` be any object), which hands the view the room it has
    already read.
    """

    def authenticate(self, request):
        self.room_id = request.parser_context["kwargs"]["room_id"]
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        loaded = token_and_room_for_joining(key=key, pk=self.room_id)
        token, join_read = loaded if loaded is not None else (None, None)
        user, token = accepted(token)
        return user, JoiningToken(token=token, join_read=join_read)


# The same Bearer scheme as BearerTokenAuthentication: one "tokenAuth" entry in the schema.
set_override(JoiningBearerAuthentication, "suppress_collision_warning", True)
