"""The join endpoints end to end: the role table (docs/roles.md) with real users, tokens, audit,
throttling."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from home.models import HomePage
from tests.factories import (
    enroll,
    make_api_token,
    make_guardian,
    make_lesson,
    make_room,
    make_subject,
    make_user,
)
from webinars.api.authentication import JoiningBearerAuthentication, JoiningToken
from webinars.api.joins import JoinResultSerializer
from webinars.api.throttles import PublicJoinSlugThrottle
from webinars.choices import AttendanceSource, JitsiEnv, JoinRole, RoomStatus, RoomType
from webinars.models import ApiToken, Attendance, JoinAudit, Room
from webinars.models_tokens import token_digest
from webinars.pages import MeetingIndexPage, MeetingPage
from webinars.providers import JoinLink
from webinars.roles import Rule
from webinars.selectors.viewer import room_for_joining
from webinars.services.joins import (
    JoinRefused,
    JoinResult,
    room_join_public,
    room_join_user,
    room_regenerate_public_slug,
)

SECRET = "test-jitsi-secret-at-least-32-bytes-long"
LOCAL_IP_HASH = hmac.new(b"test-secret-key-not-for-production", b"127.0.0.1", hashlib.sha256)


@pytest.fixture
def jwt_on(settings):
    settings.JITSI_JWT_ENABLED = True
    settings.JITSI_JWT_SECRET = SECRET
    settings.JITSI_JWT_APP_ID = "cedar"
    settings.JITSI_JWT_AUD = "jitsi"
    settings.JITSI_JWT_SUB = "jitsi.school.edu"
    return settings


def make_meeting(*, is_open: bool, hosts, start) -> Room:
    """A MeetingPage under the meeting index, linked to its MEETING room."""
    index = MeetingIndexPage.objects.first()
    if index is None:
        home = HomePage.objects.first()
        index = home.add_child(instance=MeetingIndexPage(title="Meetings", slug="meetings"))
    room = Room.objects.create(
        type=RoomType.MEETING,
        title="Parents' assembly",
        jitsi_domain="jitsi.school.edu",
        is_open=is_open,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
    )
    page = index.add_child(
        instance=MeetingPage(
            title=f"Assembly {room.pk}",
            slug=f"assembly-{room.pk}",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            is_open=is_open,
            room=room,
        )
    )
    page.hosts.set(hosts)
    page.save()
    return room


@dataclass
class School:
    users: dict
    rooms: dict
    tokens: dict  # who -> API token key, so joins go through Bearer authentication


STAFF_ROLES = ["director", "head_teacher", "methodist", "auditor", "staff", "superuser"]


@pytest.fixture
def school(db) -> School:
    """One subject, its people, and four rooms inside their window (docs/roles.md)."""
    subject, other_subject = make_subject(), make_subject()
    users = {
        "teacher": make_user("teacher", first_name="Tanya", last_name="Teacher"),
        "co_teacher": make_user("co_teacher"),
        "student": make_user("student"),
        "parent": make_user("parent"),
        "director": make_user("director", groups=["Director"]),
        "head_teacher": make_user("head", groups=["Head teacher"]),
        "methodist": make_user("methodist", groups=["Methodist"]),
        "auditor": make_user("auditor", groups=["Auditor"]),
        "staff": make_user("staffer", is_staff=True),
        "superuser": make_user("root", is_superuser=True),
        "other_student": make_user("other_student"),
        "other_parent": make_user("other_parent"),
        "outsider": make_user("outsider"),
        "host": make_user("host"),
    }
    enroll(users["student"], subject)
    make_guardian(users["parent"], users["student"])
    enroll(users["other_student"], other_subject)
    make_guardian(users["other_parent"], users["other_student"])
    start = timezone.now() + timedelta(minutes=5)
    rooms = {}
    for kind, is_open in (("closed_lesson", False), ("open_lesson", True)):
        lesson = make_lesson(
            subject=subject, teacher=users["teacher"], start=start, is_open=is_open
        )
        lesson.co_teachers.add(users["co_teacher"])
        rooms[kind] = make_room(lesson)
    rooms["open_meeting"] = make_meeting(is_open=True, hosts=[users["host"]], start=start)
    rooms["staff_meeting"] = make_meeting(is_open=False, hosts=[users["host"]], start=start)
    tokens = {who: make_api_token(user) for who, user in users.items()}
    return School(users=users, rooms=rooms, tokens=tokens)


MOD, PART, OBS = JoinRole.MODERATOR, JoinRole.PARTICIPANT, JoinRole.OBSERVER
ROOM_KINDS = ["closed_lesson", "open_lesson", "open_meeting", "staff_meeting"]
# who -> expected per room kind (a role, or the refusal's status code); anonymous uses the slug
TABLE = {
    "teacher": (MOD, MOD, OBS, 403),
    "co_teacher": (MOD, MOD, OBS, 403),
    "student": (PART, PART, OBS, 403),
    "parent": (OBS, OBS, OBS, 403),
    **{who: (OBS, OBS, OBS, PART) for who in STAFF_ROLES},
    "other_student": (403, OBS, OBS, 403),
    "other_parent": (403, OBS, OBS, 403),
    "outsider": (403, OBS, OBS, 403),
    "host": (403, OBS, MOD, MOD),
    "anonymous": (404, OBS, OBS, 404),
}


def join(school: School, who: str, room: Room, **data):
    client = APIClient()
    if who == "anonymous":
        data.setdefault("display_name", "Visitor")
        return client.post(f"/api/rooms/public/{room.public_slug}/join/", data, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {school.tokens[who]}")
    return client.post(f"/api/rooms/{room.pk}/join/", format="json")


def decode(join_url: str) -> dict:
    token = parse_qs(urlsplit(join_url).query)["jwt"][0]
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="cedar")


def assert_token_matches_role(claims: dict, *, role: str, room: Room):
    moderator = role == MOD
    user = claims["context"]["user"]
    assert claims["room"] == room.jitsi_room
    assert claims["sub"] == "jitsi.school.edu"
    assert claims["nbf"] == claims["iat"] - 60
    assert claims["exp"] <= int(room.window_end.timestamp())
    assert all(isinstance(value, str) for value in user.values())
    # the moderator flag in all three conventions, and its negative for everyone else
    assert claims["moderator"] is moderator
    assert user["moderator"] == ("true" if moderator else "false")
    assert user["affiliation"] == ("owner" if moderator else "member")
    features = claims["context"]["features"]
    assert features["recording"] == features["livestreaming"] == ("true" if moderator else "false")


@pytest.mark.parametrize("kind", ROOM_KINDS)
@pytest.mark.parametrize("who", list(TABLE))
def test_every_cell_of_the_role_table(school, jwt_on, who, kind):
    expected = TABLE[who][ROOM_KINDS.index(kind)]
    room = school.rooms[kind]
    response = join(school, who, room)
    audit = JoinAudit.objects.get()
    assert audit.room == room
    assert audit.ip_hash == LOCAL_IP_HASH.hexdigest() and "127.0.0.1" not in audit.ip_hash
    assert audit.user == school.users.get(who)
    if isinstance(expected, int):
        assert response.status_code == expected, response.json()
        assert set(response.json()) == {"detail"}
        assert (audit.granted, audit.role, audit.status_code) == (False, "", expected)
        assert not Attendance.objects.exists()
        return
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"join_url", "you_are", "expires_at"}
    assert body["you_are"] == expected
    assert body["join_url"].startswith(f"https://jitsi.school.edu/{room.jitsi_room}?jwt=")
    claims = decode(body["join_url"])
    assert_token_matches_role(claims, role=expected, room=room)
    assert claims["exp"] == int(timezone.datetime.fromisoformat(body["expires_at"]).timestamp())
    if who == "anonymous":
        assert claims["context"]["user"]["id"].startswith("guest-")
        assert claims["context"]["user"]["name"] == "Visitor"
    else:
        assert claims["context"]["user"]["id"] == str(school.users[who].pk)
    assert ("#" in body["join_url"]) is (expected == OBS)
    assert (audit.granted, audit.role, audit.status_code) == (True, expected, 200)
    assert audit.rule
    attendance = Attendance.objects.get()
    assert (attendance.room, attendance.role, attendance.source) == (
        room,
        expected,
        AttendanceSource.JOIN_API,
    )
    assert attendance.user == school.users.get(who)
    assert attendance.ip_hash == audit.ip_hash


@pytest.mark.parametrize("kind", ROOM_KINDS)
@pytest.mark.parametrize("who", [who for who in TABLE if who != "anonymous"])
def test_permissions_report_the_same_role_and_record_nothing(school, who, kind):
    expected = TABLE[who][ROOM_KINDS.index(kind)]
    client = APIClient()
    client.force_authenticate(school.users[who])
    response = client.get(f"/api/rooms/{school.rooms[kind].pk}/permissions/")
    assert response.status_code == 200
    body = response.json()
    role = None if isinstance(expected, int) else expected
    assert body["role"] == role
    perms = body["permissions"]
    assert perms["can_join"] is (role is not None)
    assert perms["can_moderate"] is perms["can_record"] is (role == MOD)
    assert perms["can_close"] is (role == MOD or who in ("staff", "superuser"))
    public = kind in ("open_lesson", "open_meeting")
    assert perms["can_view_recording"] is (role is not None or public)
    assert not JoinAudit.objects.exists() and not Attendance.objects.exists()


def test_joining_needs_an_account_except_through_the_public_link(school):
    response = APIClient().post(f"/api/rooms/{school.rooms['open_lesson'].pk}/join/")
    assert response.status_code in (401, 403)
    assert APIClient().get(
        f"/api/rooms/{school.rooms['open_lesson'].pk}/permissions/"
    ).status_code in (
        401,
        403,
    )


def test_an_unknown_room_is_404(school):
    client = APIClient()
    client.force_authenticate(school.users["teacher"])
    assert client.post("/api/rooms/999999/join/").status_code == 404
    assert client.get("/api/rooms/999999/permissions/").status_code == 404


def test_without_jwt_the_url_has_no_token(school, settings):
    settings.JITSI_JWT_ENABLED = False
    room = school.rooms["open_lesson"]
    teacher = join(school, "teacher", room).json()
    # no token; the fragment still carries the person's name, so Jitsi shows who they are
    assert teacher["join_url"].split("#")[0] == f"https://jitsi.school.edu/{room.jitsi_room}"
    assert "jwt=" not in teacher["join_url"]
    guest = join(school, "anonymous", room).json()
    assert guest["join_url"].startswith(f"https://jitsi.school.edu/{room.jitsi_room}#config.")
    assert "jwt" not in guest["join_url"]


def test_each_join_mints_its_own_token(school, jwt_on):
    room = school.rooms["closed_lesson"]
    student = school.users["student"]
    now = timezone.now()
    first = room_join_user(room=room, user=student, ip="10.0.0.1", now=now)
    second = room_join_user(room=room, user=student, ip="10.0.0.1", now=now + timedelta(seconds=5))
    assert first.join_url != second.join_url
    later = jwt.decode(
        parse_qs(urlsplit(second.join_url).query)["jwt"][0],
        SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        options={"verify_iat": False, "verify_nbf": False},
    )
    assert later["iat"] == decode(first.join_url)["iat"] + 5
    assert Attendance.objects.filter(room=room, user=student).count() == 2  # rejoins: new rows


def test_the_token_expires_at_the_window_end_of_a_lesson_about_to_finish(school, jwt_on):
    lesson = make_lesson(
        teacher=school.users["teacher"],
        start=timezone.now() - timedelta(minutes=40),
        duration=timedelta(minutes=45),
    )
    room = make_room(lesson, status=RoomStatus.OPEN)
    response = join(school, "teacher", room)
    assert response.status_code == 200, response.json()
    claims = decode(response.json()["join_url"])
    assert claims["exp"] == int(room.window_end.timestamp())
    assert claims["exp"] - claims["iat"] < 16 * 60


def test_before_the_window_is_409_with_opens_at(school):
    lesson = make_lesson(teacher=school.users["teacher"], start=timezone.now() + timedelta(hours=2))
    room = make_room(lesson)
    response = join(school, "teacher", room)
    assert response.status_code == 409
    assert response.json()["opens_at"] == room.window_start.isoformat()
    client = APIClient()
    client.force_authenticate(school.users["teacher"])
    zoned = client.post(f"/api/rooms/{room.pk}/join/?tz=Europe/Amsterdam").json()
    assert timezone.datetime.fromisoformat(zoned["opens_at"]) == room.window_start
    assert zoned["opens_at"].endswith(("+01:00", "+02:00"))
    audit = JoinAudit.objects.first()
    assert (audit.rule, audit.status_code, audit.granted) == (Rule.BEFORE_WINDOW, 409, False)
    assert not Attendance.objects.exists()


def test_an_outsider_learns_nothing_about_the_window(school):
    lesson = make_lesson(teacher=school.users["teacher"], start=timezone.now() + timedelta(hours=2))
    room = make_room(lesson)
    assert join(school, "outsider", room).status_code == 403


def test_a_closed_room_and_a_room_past_its_window_are_410(school):
    room = school.rooms["open_lesson"]
    room.status = RoomStatus.CLOSED
    room.save()
    assert join(school, "teacher", room).status_code == 410
    assert join(school, "anonymous", room).status_code == 410

    late = make_room(
        make_lesson(
            teacher=school.users["teacher"],
            start=timezone.now() - timedelta(hours=3),
            is_open=True,
        ),
        status=RoomStatus.OPEN,  # the scheduler is late closing it: still 410
    )
    assert join(school, "teacher", late).status_code == 410
    assert join(school, "anonymous", late).status_code == 410
    rules = set(JoinAudit.objects.values_list("rule", flat=True))
    assert rules == {Rule.ROOM_CLOSED, Rule.AFTER_WINDOW}


def test_a_cancelled_lesson_is_410_even_before_its_room_is_closed(school):
    room = school.rooms["open_lesson"]
    type(room.lesson).objects.filter(pk=room.lesson_id).update(is_cancelled=True)
    room.refresh_from_db()
    room.lesson.refresh_from_db()
    with pytest.raises(JoinRefused) as refused:
        room_join_user(room=room, user=school.users["student"], ip="10.0.0.2")
    assert (refused.value.status_code, refused.value.rule) == (410, Rule.LESSON_CANCELLED)
    assert join(school, "anonymous", room).status_code == 410


def test_unknown_revoked_and_non_open_slugs_answer_the_same_404(school):
    room = school.rooms["open_lesson"]
    old_slug = room.public_slug
    room_regenerate_public_slug(room=room)
    client = APIClient()
    answers = [
        client.post(f"/api/rooms/public/{slug}/join/", {}, format="json")
        for slug in (
            "no-such-link",
            old_slug,
            school.rooms["closed_lesson"].public_slug,
            school.rooms["staff_meeting"].public_slug,
        )
    ]
    assert {response.status_code for response in answers} == {404}
    assert len({response.content for response in answers}) == 1
    fresh = client.post(f"/api/rooms/public/{room.public_slug}/join/", {}, format="json")
    assert fresh.status_code == 200 and fresh.json()["you_are"] == OBS
    rules = list(JoinAudit.objects.order_by("id").values_list("rule", flat=True))
    assert rules[:4] == [
        Rule.PUBLIC_LINK_UNKNOWN,
        Rule.PUBLIC_LINK_UNKNOWN,
        Rule.PUBLIC_LINK_NOT_OPEN,
        Rule.PUBLIC_LINK_NOT_OPEN,
    ]


def test_a_lesson_unticked_as_open_closes_its_link_at_once(school):
    room = school.rooms["open_lesson"]
    type(room.lesson).objects.filter(pk=room.lesson_id).update(is_open=False)
    assert join(school, "anonymous", room).status_code == 404
    assert join(school, "outsider", room).status_code == 403


@pytest.mark.parametrize(
    "name",
    ["x" * 65, "Ann\x07", "Ann\nLee", "\u202eevil", "Ann\x00"],
    ids=["65_chars", "bell", "newline", "bidi_override", "nul"],
)
def test_a_bad_display_name_is_400_naming_the_field(school, name):
    room = school.rooms["open_lesson"]
    response = APIClient().post(
        f"/api/rooms/public/{room.public_slug}/join/", {"display_name": name}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert "display_name" in response.json()["errors"]
    assert "display_name" in response.json()["detail"]
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("  Ann Lee  ", "Ann Lee"),
        ("y" * 64, "y" * 64),
        ("", "Guest"),
        ("   ", "Guest"),
        (None, "Guest"),
        ('<script>alert("x")</script>', '<script>alert("x")</script>'),
        ("Мама Пети 👩‍👦", "Мама Пети 👩‍👦"),
    ],
)
def test_display_names_are_trimmed_defaulted_and_carried_verbatim(school, jwt_on, sent, shown):
    room = school.rooms["open_meeting"]
    data = {} if sent is None else {"display_name": sent}
    response = APIClient().post(f"/api/rooms/public/{room.public_slug}/join/", data, format="json")
    assert response.status_code == 200, response.json()
    url = response.json()["join_url"]
    assert decode(url)["context"]["user"]["name"] == shown
    assert "<" not in url and '"' not in url and " " not in url
    assert Attendance.objects.get().display_name == shown


def test_jaas_rooms_get_rs256_tokens_with_kid_and_hidden_observers(school, jwt_on, settings):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.JAAS_APP_ID = "vpaas-magic-cookie-feedface"
    settings.JAAS_KID = "vpaas-magic-cookie-feedface/abc123"
    settings.JAAS_PRIVATE_KEY = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    room = school.rooms["open_lesson"]
    room.jitsi_env = JitsiEnv.JAAS
    room.jitsi_domain = "8x8.vc"
    room.save()
    for who, role in (("teacher", MOD), ("student", PART), ("anonymous", OBS)):
        url = join(school, who, room).json()["join_url"]
        assert url.startswith(f"https://8x8.vc/vpaas-magic-cookie-feedface/{room.jitsi_room}?jwt=")
        token = parse_qs(urlsplit(url).query)["jwt"][0]
        header = jwt.get_unverified_header(token)
        assert (header["alg"], header["kid"]) == ("RS256", "vpaas-magic-cookie-feedface/abc123")
        claims = jwt.decode(
            token, private.public_key(), algorithms=["RS256"], audience="jitsi", issuer="chat"
        )
        assert claims["sub"] == "vpaas-magic-cookie-feedface"
        assert claims["room"] == room.jitsi_room
        user = claims["context"]["user"]
        assert user["moderator"] == ("true" if role == MOD else "false")
        assert claims["moderator"] is (role == MOD)
        assert claims["context"]["features"]["recording"] == ("true" if role == MOD else "false")
        assert user.get("hidden-from-recorder") is (True if role == OBS else None)


def rates(settings, *, ip: str, slug: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public_join_ip": ip,
            "public_join_slug": slug,
        },
    }


def test_public_joins_are_throttled_per_ip(school, settings):
    rates(settings, ip="3/min", slug="1000/min")
    url = f"/api/rooms/public/{school.rooms['open_lesson'].public_slug}/join/"
    client = APIClient()
    codes = [client.post(url, {}, format="json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    throttled = client.post(url, {}, format="json")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "detail" in throttled.json()
    other_ip = APIClient(REMOTE_ADDR="10.1.2.3").post(url, {}, format="json")
    assert other_ip.status_code == 200


def test_public_joins_are_throttled_per_link(school, settings, monkeypatch):
    rates(settings, ip="1000/min", slug="2/min")
    clock = {"now": 6_000_045.0}  # 45 s into a minute window
    monkeypatch.setattr(PublicJoinSlugThrottle, "timer", staticmethod(lambda: clock["now"]))
    busy = f"/api/rooms/public/{school.rooms['open_lesson'].public_slug}/join/"

    def guest(n: int):
        return APIClient(REMOTE_ADDR=f"10.0.0.{n}").post(busy, {}, format="json")

    assert [guest(n).status_code for n in range(1, 4)] == [200, 200, 429]
    throttled = guest(4)
    assert throttled.status_code == 429 and throttled["Retry-After"] == "15"
    quiet = f"/api/rooms/public/{school.rooms['open_meeting'].public_slug}/join/"
    assert APIClient(REMOTE_ADDR="10.0.0.9").post(quiet, {}, format="json").status_code == 200
    clock["now"] += 15  # the next window
    assert guest(5).status_code == 200


def test_room_join_public_service_validates_before_touching_the_database(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        room_join_public(slug="whatever", display_name="a" * 65, ip="10.0.0.1")
    assert "display_name" in error.value.message_dict
    assert not JoinAudit.objects.exists()


def test_the_schema_documents_the_join_endpoints(school):
    client = APIClient()
    client.force_authenticate(school.users["superuser"])
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    public = paths["/api/rooms/public/{slug}/join/"]["post"]
    assert {"200", "404", "409", "410", "429"} <= set(public["responses"])
    assert "requestBody" in public
    assert {"200", "403", "404", "409", "410"} <= set(
        paths["/api/rooms/{room_id}/join/"]["post"]["responses"]
    )
    assert "200" in paths["/api/rooms/{room_id}/permissions/"]["get"]["responses"]


@pytest.mark.parametrize("who", ["student", "parent", "anonymous"])
def test_a_join_costs_a_few_queries_whoever_asks(
    school, jwt_on, who, django_assert_max_num_queries
):
    """One read (room, lesson, the viewer's facts) and the two rows; no deferred-field loads."""
    with django_assert_max_num_queries(6) as captured:
        response = join(school, who, school.rooms["open_lesson"])
    assert response.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "webinars_room" in reads[0]  # room, lesson and role facts at once


def test_a_bearer_join_reads_token_user_and_room_in_one_statement(
    school, jwt_on, django_assert_max_num_queries
):
    join(school, "student", school.rooms["open_lesson"])  # the token's first use is noted
    with django_assert_max_num_queries(5) as captured:  # PostgreSQL: 2 (read, then both rows)
        response = join(school, "student", school.rooms["open_lesson"])
    assert response.status_code == 200
    assert response.json()["you_are"] == PART
    statements = [query["sql"] for query in captured.captured_queries]
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1
    assert "webinars_apitoken" in reads[0] and "webinars_room" in reads[0]
    assert not [sql for sql in statements if "webinars_apitoken" in sql and sql not in reads]


def test_a_bearer_join_notes_the_tokens_use_at_most_once_an_hour(school, jwt_on):
    token = ApiToken.objects.get(digest=token_digest(school.tokens["student"]))
    assert token.last_used_at is None
    room = school.rooms["open_lesson"]
    with CaptureQueriesContext(connection) as first:
        assert join(school, "student", room).status_code == 200
    token.refresh_from_db()
    noted = token.last_used_at
    assert noted is not None and timezone.now() - noted < timedelta(minutes=1)
    with CaptureQueriesContext(connection) as second:
        assert join(school, "student", room).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == noted

    def token_writes(captured):
        return [
            q["sql"] for q in captured if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]
        ]

    assert len(token_writes(first)) == 1 and not token_writes(second)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=noted - timedelta(minutes=61))
    assert join(school, "student", room).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > noted


def test_the_bearer_join_hands_its_read_to_the_view_as_request_auth(school):
    """The token, its user and the room with the user's facts: one object, nothing stashed."""
    room = school.rooms["closed_lesson"]
    django_request = APIRequestFactory().post(
        f"/api/rooms/{room.pk}/join/", HTTP_AUTHORIZATION=f"Bearer {school.tokens['parent']}"
    )
    request = Request(django_request, parser_context={"kwargs": {"room_id": room.pk}})
    user, auth = JoiningBearerAuthentication().authenticate(request)
    assert user == school.users["parent"]
    assert isinstance(auth, JoiningToken)
    assert auth.token.digest == token_digest(school.tokens["parent"])
    assert auth.join_read.room.pk == room.pk
    assert auth.join_read.facts.is_parent_of_enrolled and not auth.join_read.facts.is_enrolled
    assert not hasattr(request, "joining_room")
    assert "_join_viewer_facts" not in vars(auth.join_read.room)


def test_a_signed_in_session_joins_with_the_same_role(school):
    """Without a Bearer token the join reads the room itself (the page's own session)."""
    client = APIClient()
    client.force_login(school.users["student"])
    response = client.post(f"/api/rooms/{school.rooms['open_lesson'].pk}/join/")
    assert response.status_code == 200
    assert response.json()["you_are"] == PART


@pytest.mark.parametrize("problem", ["unknown token", "inactive user", "expired", "revoked"])
def test_a_bad_bearer_token_is_401_and_joins_nothing(school, problem):
    key = school.tokens["student"]
    token = ApiToken.objects.filter(digest=token_digest(key))
    if problem == "unknown token":
        key = "0" * 40
    elif problem == "inactive user":
        school.users["student"].is_active = False
        school.users["student"].save(update_fields=["is_active"])
    elif problem == "expired":
        token.update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        token.delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(f"/api/rooms/{school.rooms['open_lesson'].pk}/join/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    if problem == "expired":
        assert "expired" in response.json()["detail"]
    assert not JoinAudit.objects.exists() and not Attendance.objects.exists()


def test_a_bearer_join_to_a_room_that_does_not_exist_is_404(school):
    missing = Room.objects.order_by("-pk").first().pk + 1000
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {school.tokens['student']}")
    assert client.post(f"/api/rooms/{missing}/join/").status_code == 404


def test_the_join_loads_the_right_lesson_facts_when_ids_differ(db):
    """Teacher, subject and lesson ids deliberately out of step: no column mix-ups."""
    for _ in range(3):
        make_subject()
    make_user(), make_user()
    teacher = make_user()
    lesson = make_lesson(teacher=teacher, subject=make_subject(), is_open=True)
    room = make_room(lesson)
    read = room_for_joining(pk=room.pk, viewer=teacher)
    loaded = read.room
    assert read.facts.is_teacher and read.facts.user_id == teacher.pk
    assert (loaded.lesson.pk, loaded.lesson.teacher_id, loaded.lesson.subject_id) == (
        lesson.pk,
        teacher.pk,
        lesson.subject_id,
    )
    assert (loaded.lesson.is_open, loaded.lesson.is_cancelled) == (True, False)
    assert (loaded.scheduled_start, loaded.scheduled_end) == (
        lesson.scheduled_start,
        lesson.scheduled_end,
    )
    assert loaded.lesson.title == lesson.title  # not loaded up front, fetched on use
    assert room_for_joining(public_slug=room.public_slug).room.pk == room.pk
    assert room_for_joining(pk=room.pk + 1000) is None


@pytest.mark.parametrize("tz", ["", "Europe/Amsterdam"])
def test_the_join_body_is_what_the_schema_documents(school, tz):
    """The views build the body by hand (hot path): it must equal the documented serializer's."""
    lesson = make_lesson(
        teacher=school.users["teacher"], start=timezone.now() + timedelta(minutes=5), is_open=True
    )
    room = make_room(lesson, status=RoomStatus.OPEN)
    query = f"?tz={tz}" if tz else ""
    client = APIClient()
    client.force_authenticate(school.users["teacher"])
    responses = [
        client.post(f"/api/rooms/{room.pk}/join/{query}"),
        APIClient().post(f"/api/rooms/public/{room.public_slug}/join/{query}", {}, format="json"),
    ]
    request = Request(APIRequestFactory().get(f"/{query}"))
    for response in responses:
        assert response.status_code == 200, response.json()
        body = response.json()
        link = JoinLink(
            url=body["join_url"],
            token=None,
            expires_at=timezone.datetime.fromisoformat(body["expires_at"]),
        )
        result = JoinResult(link=link, you_are=body["you_are"], room=room)
        assert body == JoinResultSerializer(result, context={"request": request}).data
        assert body["expires_at"].endswith("+00:00") != bool(tz)
