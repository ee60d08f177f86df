"""Join tokens decoded with PyJWT exactly as Prosody / JaaS would check them (SPEC §5)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from webinars.choices import JitsiEnv, JoinRole
from webinars.providers import jitsi

NOW = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
SECRET = "test-jitsi-secret-at-least-32-bytes-long"
ROOM = "cedar-abcdefghijklmnopqrstuvwx"
ALICE = jitsi.JitsiUser(id="42", name="Alice Smith", email="alice@school.test")


@pytest.fixture
def self_hosted(settings):
    settings.JITSI_JWT_SECRET = SECRET
    settings.JITSI_JWT_APP_ID = "cedar"
    settings.JITSI_JWT_AUD = "jitsi"
    settings.JITSI_JWT_SUB = "jitsi.school.edu"
    settings.JITSI_JWT_TTL_MIN = 120
    return settings


@pytest.fixture(scope="module")
def rsa_key_pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, private.public_key()


@pytest.fixture
def jaas(settings, rsa_key_pair):
    settings.JAAS_APP_ID = "vpaas-magic-cookie-0123456789abcdef"
    settings.JAAS_KID = "vpaas-magic-cookie-0123456789abcdef/4f4910"
    settings.JAAS_PRIVATE_KEY = rsa_key_pair[0]
    return rsa_key_pair[1]


def mint(env: str, role: str, *, user=ALICE, expires_at=None) -> str:
    claims = jitsi.token_claims(
        env=env,
        room_name=ROOM,
        user=user,
        role=role,
        group="lesson-7",
        now=NOW,
        expires_at=expires_at or NOW + timedelta(minutes=30),
    )
    return jitsi.sign_token(env=env, claims=claims)


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


@pytest.mark.parametrize(
    ("role", "is_moderator"),
    [(JoinRole.MODERATOR, True), (JoinRole.PARTICIPANT, False), (JoinRole.OBSERVER, False)],
)
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


def test_a_wrong_secret_or_another_algorithm_is_refused(self_hosted):
    token = mint(JitsiEnv.SELF_HOSTED, JoinRole.OBSERVER)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-also-32-bytes-long!!", algorithms=["HS256"])
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, SECRET, algorithms=["HS512"])


def test_the_token_is_valid_now_and_expires_as_claimed(self_hosted):
    """Decoded against the real clock: a token minted now is accepted with zero leeway."""
    now = datetime.now(UTC)
    claims = jitsi.token_claims(
        env=JitsiEnv.SELF_HOSTED,
        room_name=ROOM,
        user=ALICE,
        role=JoinRole.MODERATOR,
        group="g",
        now=now,
        expires_at=now + timedelta(seconds=90),
    )
    token = jitsi.sign_token(env=JitsiEnv.SELF_HOSTED, claims=claims)
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", leeway=0)
    assert decoded["nbf"] < now.timestamp() < decoded["exp"]

    expired = jitsi.token_claims(
        env=JitsiEnv.SELF_HOSTED,
        room_name=ROOM,
        user=ALICE,
        role=JoinRole.MODERATOR,
        group="g",
        now=now - timedelta(hours=3),
        expires_at=now - timedelta(seconds=1),
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(
            jitsi.sign_token(env=JitsiEnv.SELF_HOSTED, claims=expired),
            SECRET,
            algorithms=["HS256"],
            audience="jitsi",
        )


def test_expiry_is_capped_by_the_window_end(settings):
    settings.JITSI_JWT_TTL_MIN = 120
    window_end = NOW + timedelta(minutes=20)
    assert jitsi.token_expiry(now=NOW, window_end=window_end) == window_end
    far = NOW + timedelta(hours=5)
    assert jitsi.token_expiry(now=NOW, window_end=far) == NOW + timedelta(minutes=120)


def test_a_missing_secret_is_a_configuration_error(settings):
    settings.JITSI_JWT_SECRET = ""
    with pytest.raises(ImproperlyConfigured):
        mint(JitsiEnv.SELF_HOSTED, JoinRole.MODERATOR)


@pytest.mark.parametrize(
    ("role", "is_moderator"),
    [(JoinRole.MODERATOR, True), (JoinRole.PARTICIPANT, False), (JoinRole.OBSERVER, False)],
)
def test_jaas_token_is_rs256_with_kid_and_the_jaas_claims(jaas, role, is_moderator):
    token = mint(JitsiEnv.JAAS, role)
    header = jwt.get_unverified_header(token)
    assert header == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": "vpaas-magic-cookie-0123456789abcdef/4f4910",
    }
    claims = jwt.decode(
        token,
        jaas,
        algorithms=["RS256"],
        audience="jitsi",
        issuer="chat",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims["sub"] == "vpaas-magic-cookie-0123456789abcdef"
    assert claims["room"] == ROOM
    assert claims["nbf"] == claims["iat"] - 60
    user = claims["context"]["user"]
    assert_all_strings(user)
    assert user["moderator"] == ("true" if is_moderator else "false")
    assert user["affiliation"] == ("owner" if is_moderator else "member")
    assert claims["moderator"] is is_moderator
    features = claims["context"]["features"]
    assert features["recording"] == features["livestreaming"] == str(is_moderator).lower()
    if role == JoinRole.OBSERVER:
        # a real boolean: lib-jitsi-meet reads it with Boolean(), so "false" would hide anyone
        assert user["hidden-from-recorder"] is True
    else:
        assert "hidden-from-recorder" not in user


def test_jaas_room_url_carries_the_app_id(jaas):
    url = jitsi.room_base_url(domain=jitsi.JAAS_DOMAIN, room_name=ROOM, env=JitsiEnv.JAAS)
    assert url == f"https://8x8.vc/vpaas-magic-cookie-0123456789abcdef/{ROOM}"


def test_jaas_without_a_key_is_a_configuration_error(jaas, settings):
    settings.JAAS_PRIVATE_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        mint(JitsiEnv.JAAS, JoinRole.MODERATOR)


def test_a_guest_gets_a_string_id_and_the_name_typed(self_hosted):
    guest = jitsi.JitsiUser(id="guest-3f2a", name="Мама Пети")
    claims = decode_self_hosted(mint(JitsiEnv.SELF_HOSTED, JoinRole.OBSERVER, user=guest))
    assert claims["context"]["user"]["id"] == "guest-3f2a"
    assert claims["context"]["user"]["name"] == "Мама Пети"


def fragment_params(url: str) -> dict:
    """Parse the fragment as Jitsi does: URL-decode each value, then JSON-parse it."""
    fragment = urlsplit(url).fragment
    return {
        key: json.loads(unquote(value))
        for key, value in (part.split("=", 1) for part in fragment.split("&"))
    }


def test_observer_url_carries_the_ui_restrictions_in_the_fragment():
    name = 'Ann "&#x" <b>Lee</b>'
    url = jitsi.join_url(
        room_url=f"https://jitsi.school.edu/{ROOM}",
        token="abc.def.ghi",
        role=JoinRole.OBSERVER,
        display_name=name,
    )
    base, _, fragment = url.partition("#")
    assert base == f"https://jitsi.school.edu/{ROOM}?jwt=abc.def.ghi"
    assert dict(parse_qsl(urlsplit(base).query)) == {"jwt": "abc.def.ghi"}
    for raw in ("<", ">", '"', " ", "#"):
        assert raw not in fragment
    params = fragment_params(url)
    assert params["config.startWithAudioMuted"] is True
    assert params["config.startWithVideoMuted"] is True
    assert params["config.disableDeepLinking"] is True
    assert "recording" not in params["config.toolbarButtons"]
    assert "hangup" in params["config.toolbarButtons"]
    assert params["userInfo.displayName"] == name


@pytest.mark.parametrize("role", [JoinRole.MODERATOR, JoinRole.PARTICIPANT])
def test_other_roles_get_no_fragment_and_no_token_without_jwt(role):
    url = jitsi.join_url(
        room_url=f"https://jitsi.school.edu/{ROOM}", token=None, role=role, display_name="x"
    )
    assert url == f"https://jitsi.school.edu/{ROOM}"
