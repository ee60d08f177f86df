"""Self-hosted Jitsi behind the provider interface (see docs/providers.md).

Tokens are decoded with PyJWT exactly as Prosody would check them. Rooms are unsaved and no
test here may touch the database: the adapters read a room, they never query or write.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from webinars.choices import JitsiEnv, JoinRole, RoomType
from webinars.models import Room
from webinars.providers import Embed, Person, WebhookUnauthorized, provider_for, provider_for_env

NOW = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
SECRET = "test-jitsi-secret-at-least-32-bytes-long"
ROOM = "cedar-abcdefghijklmnopqrstuvwx"
ALICE = Person(id="42", name="Alice Smith", email="alice@school.test")
ROLES = [(JoinRole.MODERATOR, True), (JoinRole.PARTICIPANT, False), (JoinRole.OBSERVER, False)]


@pytest.fixture
def self_hosted(settings):
    settings.JITSI_JWT_ENABLED = True
    settings.JITSI_JWT_SECRET = SECRET
    settings.JITSI_JWT_APP_ID = "cedar"
    settings.JITSI_JWT_AUD = "jitsi"
    settings.JITSI_JWT_SUB = "jitsi.school.edu"
    settings.JITSI_JWT_TTL_MIN = 120
    settings.ROOM_CLOSE_GRACE_MIN = 10
    return settings


def a_room(env: str = JitsiEnv.SELF_HOSTED, *, domain="jitsi.school.edu", ends=None) -> Room:
    """An unsaved room of lesson 7 ending 30 minutes after NOW (window: +10 min grace)."""
    ends = ends or NOW + timedelta(minutes=30)
    return Room(
        type=RoomType.LESSON,
        lesson_id=7,
        jitsi_env=env,
        jitsi_domain=domain,
        jitsi_room=ROOM,
        scheduled_start=ends - timedelta(minutes=45),
        scheduled_end=ends,
    )


def mint(env: str, role: str, *, user=ALICE, now=NOW, expires_at=None) -> str:
    provider = provider_for_env(env)
    claims = provider.token_claims(
        room_name=ROOM,
        user=user,
        role=role,
        group="lesson-7",
        now=now,
        expires_at=expires_at or now + timedelta(minutes=30),
    )
    return provider.sign_token(claims=claims)


def signed_part_digest(token: str) -> str:
    """SHA-256 of ``header.payload``: the bytes a token's signature covers."""
    return hashlib.sha256(token.rsplit(".", 1)[0].encode()).hexdigest()


def decode_self_hosted(token: str) -> dict:
    # verify as Prosody does: the configured algorithm, audience, issuer, required claims.
    # The clock is fixed in these tests, so the time claims are compared as numbers below
    # (test_the_token_is_valid_now_… checks them against the real clock).
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        issuer="cedar",
        options={
            "require": ["exp", "nbf", "iat", "iss", "aud", "sub", "room"],
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
        },
    )


def assert_all_strings(user: dict, keys=("id", "name", "email", "avatar", "moderator")):
    for key in (*keys, "affiliation"):
        assert isinstance(user[key], str), key


def fragment_params(url: str) -> dict:
    """Parse the fragment as Jitsi does: URL-decode each value, then JSON-parse it."""
    fragment = urlsplit(url).fragment
    return {
        key: json.loads(unquote(value))
        for key, value in (part.split("=", 1) for part in fragment.split("&"))
    }


# --- Tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "is_moderator"), ROLES)
def test_self_hosted_token_carries_every_claim(self_hosted, role, is_moderator):
    token = mint(JitsiEnv.SELF_HOSTED, role)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = decode_self_hosted(token)
    assert claims["iss"] == "cedar"
    assert claims["aud"] == "jitsi"
    assert claims["sub"] == "jitsi.school.edu"
    assert claims["room"] == ROOM and claims["room"] != "*"
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["nbf"] == int(NOW.timestamp()) - 60
    assert claims["exp"] == int((NOW + timedelta(minutes=30)).timestamp())
    user = claims["context"]["user"]
    assert_all_strings(user)
    assert user == {
        "id": "42",
        "name": "Alice Smith",
        "email": "alice@school.test",
        "avatar": "",
        "moderator": "true" if is_moderator else "false",
        "affiliation": "owner" if is_moderator else "member",
    }
    assert claims["moderator"] is is_moderator
    features = claims["context"]["features"]
    assert features["recording"] == features["livestreaming"] == str(is_moderator).lower()
    assert claims["context"]["group"] == "lesson-7"


# SHA-256 of each token's signed part as minted before the providers seam existed: these
# claims were checked against Jitsi's Prosody code, so not one byte may drift.
CHECKED_SELF_HOSTED = {
    JoinRole.MODERATOR: "5eb2875e1c389b3f4dcd68f38c4b259335a0fe8b0c321eb9f374e540eefd18bc",
    JoinRole.PARTICIPANT: "f8eddd6a44ff0f61bd9e8a021282d52428e2a4d4eb5949ef63c825ba84d08edc",
    JoinRole.OBSERVER: "f8eddd6a44ff0f61bd9e8a021282d52428e2a4d4eb5949ef63c825ba84d08edc",
}


@pytest.mark.parametrize("role", list(CHECKED_SELF_HOSTED))
def test_self_hosted_tokens_keep_the_bytes_checked_against_prosody(self_hosted, role):
    assert signed_part_digest(mint(JitsiEnv.SELF_HOSTED, role)) == CHECKED_SELF_HOSTED[role]


def test_a_wrong_secret_or_another_algorithm_is_refused(self_hosted):
    token = mint(JitsiEnv.SELF_HOSTED, JoinRole.OBSERVER)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-also-32-bytes-long!!", algorithms=["HS256"])
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, SECRET, algorithms=["HS512"])


def test_the_token_is_valid_now_and_expires_as_claimed(self_hosted):
    """Decoded against the real clock: a token minted now is accepted with zero leeway."""
    now = datetime.now(UTC)
    token = mint(
        JitsiEnv.SELF_HOSTED, JoinRole.MODERATOR, now=now, expires_at=now + timedelta(seconds=90)
    )
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", leeway=0)
    assert decoded["nbf"] < now.timestamp() < decoded["exp"]

    expired = mint(
        JitsiEnv.SELF_HOSTED,
        JoinRole.MODERATOR,
        now=now - timedelta(hours=3),
        expires_at=now - timedelta(seconds=1),
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, SECRET, algorithms=["HS256"], audience="jitsi")


def test_a_missing_secret_is_a_configuration_error(self_hosted):
    self_hosted.JITSI_JWT_SECRET = ""
    with pytest.raises(ImproperlyConfigured):
        mint(JitsiEnv.SELF_HOSTED, JoinRole.MODERATOR)


def test_a_guest_gets_a_string_id_and_the_name_typed(self_hosted):
    guest = Person(id="guest-3f2a", name="Мама Пети")
    claims = decode_self_hosted(mint(JitsiEnv.SELF_HOSTED, JoinRole.OBSERVER, user=guest))
    assert claims["context"]["user"]["id"] == "guest-3f2a"
    assert claims["context"]["user"]["name"] == "Мама Пети"


# --- Through the interface ------------------------------------------------------------------


@pytest.mark.parametrize(("role", "is_moderator"), ROLES)
def test_a_join_link_through_the_interface(self_hosted, role, is_moderator):
    room = a_room()
    link = provider_for(room).join_url(room=room, person=ALICE, role=role, now=NOW)

    base, _, fragment = link.url.partition("#")
    assert base == f"https://jitsi.school.edu/{ROOM}?jwt={link.token}"
    assert bool(fragment) is (role == JoinRole.OBSERVER)
    claims = decode_self_hosted(link.token)
    assert claims["moderator"] is is_moderator
    assert claims["context"]["group"] == "lesson-7"
    assert claims["context"]["user"]["name"] == "Alice Smith"
    assert link.expires_at == NOW + timedelta(minutes=40)  # the window's end, before the TTL
    assert claims["exp"] == int(link.expires_at.timestamp())
    assert room.provider is provider_for(room)


def test_a_link_never_outlives_the_window_nor_the_ttl(self_hosted):
    soon = a_room(ends=NOW + timedelta(minutes=5))
    late = a_room(ends=NOW + timedelta(hours=5))
    provider = provider_for(soon)

    first = provider.join_url(room=soon, person=ALICE, role=JoinRole.PARTICIPANT, now=NOW)
    second = provider.join_url(room=late, person=ALICE, role=JoinRole.PARTICIPANT, now=NOW)

    assert first.expires_at == soon.window_end == NOW + timedelta(minutes=15)
    assert second.expires_at == NOW + timedelta(minutes=120)
    assert decode_self_hosted(second.token)["exp"] == int(second.expires_at.timestamp())


def test_observer_link_carries_the_ui_restrictions_in_the_fragment(self_hosted):
    name = 'Ann "&#x" <b>Lee</b>'
    room = a_room()
    link = room.provider.join_url(
        room=room, person=Person(id="guest-1", name=name), role=JoinRole.OBSERVER, now=NOW
    )
    base, _, fragment = link.url.partition("#")
    assert dict(parse_qsl(urlsplit(base).query)) == {"jwt": link.token}
    for raw in ("<", ">", '"', " ", "#"):
        assert raw not in fragment
    params = fragment_params(link.url)
    assert params["config.startWithAudioMuted"] is True
    assert params["config.startWithVideoMuted"] is True
    assert params["config.disableDeepLinking"] is True
    assert "recording" not in params["config.toolbarButtons"]
    assert "hangup" in params["config.toolbarButtons"]
    assert params["userInfo.displayName"] == name


@pytest.mark.parametrize("role", [JoinRole.MODERATOR, JoinRole.PARTICIPANT, JoinRole.OBSERVER])
def test_without_jwt_everyone_arrives_under_their_name(self_hosted, role):
    self_hosted.JITSI_JWT_ENABLED = False
    room = a_room()
    link = room.provider.join_url(room=room, person=ALICE, role=role, now=NOW)
    base, _, _fragment = link.url.partition("#")
    assert base == f"https://jitsi.school.edu/{ROOM}"
    assert link.token is None
    assert fragment_params(link.url)["userInfo.displayName"] == "Alice Smith"
    assert ("config.startWithAudioMuted" in fragment_params(link.url)) is (
        role == JoinRole.OBSERVER
    )


@pytest.mark.parametrize(
    ("domain", "script", "name"),
    [
        ("jitsi.school.edu", "https://jitsi.school.edu/external_api.js", ROOM),
        (
            "meet.school.edu/tenant",
            "https://meet.school.edu/tenant/external_api.js",
            f"tenant/{ROOM}",
        ),
    ],
)
def test_the_embedded_room_is_described_from_the_room_url(self_hosted, domain, script, name):
    room = a_room(domain=domain)
    link = room.provider.join_url(room=room, person=ALICE, role=JoinRole.MODERATOR, now=NOW)

    embed = room.provider.embed(room=room, link=link)

    assert embed == Embed(
        script_url=script,
        domain=script.split("/")[2],
        room_name=name,
        jwt=link.token,
        start_recording=True,
    )


def test_ending_a_room_calls_nothing_and_changes_nothing(self_hosted):
    """No database here (a query would raise) and no HTTP client is involved."""
    room = a_room()
    before = room.__dict__.copy()
    assert room.provider.end_room(room=room) is None
    assert room.__dict__ == before


def test_self_hosted_jitsi_refuses_an_unsigned_prosody_event():
    with pytest.raises(WebhookUnauthorized):
        provider_for_env(JitsiEnv.SELF_HOSTED).parse_webhook(headers={}, body=b"{}")


def test_an_unknown_platform_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="JAAS, SELF_HOSTED"):
        provider_for(a_room(env="ZOOM"))
