"""8x8 JaaS behind the provider interface: RS256 tokens, AppID URLs, signed webhooks → events."""

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.utils.datastructures import CaseInsensitiveMapping

from tests.factories import make_lesson
from tests.webinars.test_api_recordings import sign
from tests.webinars.test_providers_jitsi import (
    ALICE,
    NOW,
    ROLES,
    ROOM,
    a_room,
    assert_all_strings,
    mint,
    signed_part_digest,
)
from webinars.choices import JitsiEnv, JoinRole
from webinars.providers import (
    Embed,
    ParticipantJoined,
    ParticipantLeft,
    ProviderEvent,
    RecordingEnded,
    RecordingStarted,
    RecordingUploaded,
    RoomCreated,
    RoomDestroyed,
    WebhookInvalid,
    WebhookUnauthorized,
    provider_for_env,
)
from webinars.services.rooms import lesson_room_build

APP_ID = "vpaas-magic-cookie-0123456789abcdef"
KID = f"{APP_ID}/4f4910"
JAAS = provider_for_env(JitsiEnv.JAAS)


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
    """JaaS configured; returns the public key 8x8 would verify with."""
    settings.JITSI_JWT_ENABLED = True
    settings.JITSI_JWT_TTL_MIN = 120
    settings.ROOM_CLOSE_GRACE_MIN = 10
    settings.JAAS_APP_ID = APP_ID
    settings.JAAS_KID = KID
    settings.JAAS_PRIVATE_KEY = rsa_key_pair[0]
    return rsa_key_pair[1]


def decode_jaas(token: str, public_key) -> dict:
    return jwt.decode(
        token,
        public_key,
        algorithms=["RS256"],
        audience="jitsi",
        issuer="chat",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )


# --- Tokens and links -----------------------------------------------------------------------


@pytest.mark.parametrize(("role", "is_moderator"), ROLES)
def test_jaas_token_is_rs256_with_kid_and_the_jaas_claims(jaas, role, is_moderator):
    token = mint(JitsiEnv.JAAS, role)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": KID}
    claims = decode_jaas(token, jaas)
    assert claims["sub"] == APP_ID
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


# SHA-256 of header.payload as minted before the providers seam (RS256 signatures depend on
# the key, the signed bytes do not): checked against JaaS, so not one byte may drift.
CHECKED_JAAS = {
    JoinRole.MODERATOR: "08578268bfdae9e14289d530ed9374fcc309f58a81f1374ae564c8707b49144f",
    JoinRole.PARTICIPANT: "5bb5bf6ebbad76c66d07fa7b65f3e564b056b9ddeec70a7a4db27df4e8755549",
    JoinRole.OBSERVER: "0921187278630f0cd9f2b892255e17158e773955b25aa3475677ec9e20fab8b5",
}


@pytest.mark.parametrize("role", list(CHECKED_JAAS))
def test_jaas_tokens_keep_the_bytes_checked_against_jaas(jaas, role):
    assert signed_part_digest(mint(JitsiEnv.JAAS, role)) == CHECKED_JAAS[role]


def test_jaas_without_a_key_is_a_configuration_error(jaas, settings):
    settings.JAAS_PRIVATE_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        mint(JitsiEnv.JAAS, JoinRole.MODERATOR)


@pytest.mark.parametrize(("role", "is_moderator"), ROLES)
def test_a_jaas_join_link_through_the_interface(jaas, role, is_moderator):
    room = a_room(JitsiEnv.JAAS, domain="8x8.vc")
    link = room.provider.join_url(room=room, person=ALICE, role=role, now=NOW)

    assert room.provider is JAAS
    assert room.provider.room_url(room=room) == f"https://8x8.vc/{APP_ID}/{ROOM}"
    assert link.url.startswith(f"https://8x8.vc/{APP_ID}/{ROOM}?jwt=")
    assert parse_qs(urlsplit(link.url).query)["jwt"] == [link.token]
    claims = decode_jaas(link.token, jaas)
    assert claims["room"] == ROOM  # the bare name: "<AppID>/<room>" is refused
    assert claims["moderator"] is is_moderator
    assert claims["exp"] == int(link.expires_at.timestamp())
    assert link.expires_at == room.window_end
    assert ("#config." in link.url) is (role == JoinRole.OBSERVER)


def test_the_embedded_jaas_room_lives_under_the_app_id(jaas):
    room = a_room(JitsiEnv.JAAS, domain="8x8.vc")
    link = room.provider.join_url(room=room, person=ALICE, role=JoinRole.MODERATOR, now=NOW)

    assert room.provider.embed(room=room, link=link) == Embed(
        script_url=f"https://8x8.vc/{APP_ID}/external_api.js",
        domain="8x8.vc",
        room_name=f"{APP_ID}/{ROOM}",
        jwt=link.token,
        start_recording=True,
    )


@pytest.mark.django_db
def test_new_rooms_are_made_on_the_configured_platform(jaas, settings):
    settings.JITSI_ENV = JitsiEnv.JAAS
    room = lesson_room_build(make_lesson())

    assert room.provider is JAAS
    assert room.jitsi_domain == "8x8.vc"
    assert room.join_url == f"https://8x8.vc/{APP_ID}/{room.jitsi_room}"


# --- Webhooks -------------------------------------------------------------------------------


def envelope(event_type: str, key: str = "k-1", **data) -> dict:
    return {
        "idempotencyKey": key,
        "customerId": "c1",
        "appId": APP_ID,
        "eventType": event_type,
        "sessionId": "session-1",
        "timestamp": 1_700_000_000_000,
        "fqn": f"{APP_ID}/{ROOM.upper()}",
        "data": data,
    }


def parse(payload, *, signature: str | None = "auto", body: bytes | None = None):
    body = json.dumps(payload).encode() if body is None else body
    headers = {}
    if signature == "auto":
        signature = sign(body)
    if signature is not None:
        headers["X-Jaas-Signature"] = signature
    return JAAS.parse_webhook(headers=headers, body=body)


@pytest.mark.parametrize(
    ("event_type", "event_class"),
    [
        ("ROOM_CREATED", RoomCreated),
        ("ROOM_DESTROYED", RoomDestroyed),
        ("RECORDING_STARTED", RecordingStarted),
        ("RECORDING_ENDED", RecordingEnded),
        ("SETTINGS_PROVISIONING", ProviderEvent),
    ],
)
def test_a_signed_webhook_becomes_one_event_of_its_kind(event_type, event_class):
    payload = envelope(event_type)
    (event,) = parse(payload)

    assert type(event) is event_class
    assert event.key == "k-1" and event.kind == event_type
    assert event.room_name == ROOM  # the room of "<AppID>/<room>", lower-case
    assert event.session_id == "session-1"
    assert event.at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert event.payload == payload


def test_participant_events_carry_who_and_whether_moderator():
    joined, left = (
        parse(envelope(kind, id="42", name="Ann", participantId="p1", moderator=moderator))[0]
        for kind, moderator in (("PARTICIPANT_JOINED", "true"), ("PARTICIPANT_LEFT", False))
    )
    assert isinstance(joined, ParticipantJoined) and isinstance(left, ParticipantLeft)
    assert (joined.participant_id, joined.user_id, joined.name) == ("p1", "42", "Ann")
    assert joined.moderator is True and left.moderator is False
    (by_jid,) = parse(envelope("PARTICIPANT_JOINED", participantJid="jid@x"))
    assert by_jid.participant_id == "jid@x" and by_jid.user_id == "" and by_jid.name == ""


def test_an_upload_event_carries_the_link_the_recording_is_fetched_from():
    (event,) = parse(
        envelope(
            "RECORDING_UPLOADED",
            preAuthenticatedLink="https://8x8.vc/rec/a.mp4",
            durationSec=61,
            startTimestamp=1_700_000_000_000,
            endTimestamp=1_700_000_061_000,
            recordingSessionId="rs-1",
        )
    )
    assert isinstance(event, RecordingUploaded)
    assert (event.recording_id, event.duration_secs, event.file_ext) == ("rs-1", 61, "mp4")
    assert event.ended_at - event.started_at == timedelta(seconds=61)
    assert JAAS.recording_source(event=event) == "https://8x8.vc/rec/a.mp4"


def test_odd_values_in_a_signed_webhook_read_as_absent():
    payload = envelope("RECORDING_UPLOADED", durationSec=-5, startTimestamp=1e30)
    payload.update(timestamp="yesterday", fqn=5, sessionId=None)
    body = json.dumps(payload).encode()
    received = datetime.now(UTC)
    headers = CaseInsensitiveMapping({"x-jaas-signature": sign(body)})  # as request.headers
    (event,) = JAAS.parse_webhook(headers=headers, body=body, now=received)
    assert event.at == received
    assert (event.duration_secs, event.started_at, event.link) == (None, None, "")
    assert (event.room_name, event.session_id) == ("5", "")
    payload["data"] = [1]
    assert parse(payload)[0].link == ""


@pytest.mark.parametrize(
    "signature",
    [
        lambda body: None,
        lambda body: "",
        lambda body: "v1=AAAA",
        lambda body: "t=abc,v1=AAAA",
        lambda body: "t=1,v1=AAAA",
        lambda body: sign(body, secret="other-secret"),
        lambda body: sign(body, at=time.time() - 3600),
        lambda body: sign(b'{"idempotencyKey": "x"}'),
        lambda body: sign(body).replace("v1=", "v0="),
    ],
    ids=["none", "empty", "no-t", "bad-t", "wrong", "secret", "stale", "other-body", "scheme"],
)
def test_a_webhook_without_a_valid_fresh_signature_is_refused(signature):
    payload = envelope("ROOM_CREATED")
    parse(payload)  # signed properly it passes
    with pytest.raises(WebhookUnauthorized):
        parse(payload, signature=signature(json.dumps(payload).encode()))


def test_without_a_configured_secret_nothing_is_accepted(settings):
    payload = envelope("ROOM_CREATED")
    signature = sign(json.dumps(payload).encode())
    settings.JAAS_WEBHOOK_SECRET = ""
    with pytest.raises(WebhookUnauthorized):
        parse(payload, signature=signature)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"\xff\xfe", "body"),
        (b"[1, 2]", "body"),
        (b'{"eventType": "ROOM_CREATED"}', "idempotencyKey"),
        (b'{"idempotencyKey": "", "eventType": "ROOM_CREATED"}', "idempotencyKey"),
    ],
)
def test_a_signed_body_that_cannot_be_read_names_the_field(body, field):
    with pytest.raises(WebhookInvalid) as caught:
        parse(None, body=body)
    assert caught.value.field == field
