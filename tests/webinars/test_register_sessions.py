"""Where sessions end: Prosody event sync (its door), the embedded room, the room's close."""

import json

import pytest
from django.test import Client

from tests.factories import at, make_user
from tests.webinars.register_factories import DAY, PROSODY_SECRET, make_class, post_prosody
from webinars.choices import AttendanceSource, ClosedReason
from webinars.models import Attendance, WebhookEvent
from webinars.providers.prosody import room_name_of
from webinars.services.joins import room_join_user
from webinars.services.register import sessions_end
from webinars.services.rooms import rooms_close

JOINED = {
    "event_name": "muc-occupant-joined",
    "room_name": "ROOM",
    "room_jid": "ROOM@conference.jitsi.school.edu",
    "is_breakout": False,
    "active_occupants_count": 1,
    "occupant": {
        "occupant_jid": "ROOM@conference.jitsi.school.edu/aa11",
        "joined_at": 1791788400,
        "name": "Alice Brown",
        "id": "USER",
        "email": "alice@school.test",
    },
}


@pytest.fixture
def prosody(settings):
    settings.PROSODY_EVENT_SECRET = PROSODY_SECRET


def joined_for(school, **occupant) -> dict:
    body = json.loads(json.dumps(JOINED).replace("ROOM", school.room.jitsi_room))
    body["occupant"]["id"] = str(school.students["ALICE"].pk)
    body["occupant"].update(occupant)
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", f"Basic {PROSODY_SECRET}", "Bearer", f"bearer  {PROSODY_SECRET}x"],
)
def test_event_sync_without_the_right_bearer_secret_is_401_and_records_nothing(
    api_client, prosody, header
):
    school = make_class()
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api_client.post(
        "/api/webhooks/prosody/events/occupant/joined",
        data=json.dumps(joined_for(school)),
        content_type="application/json",
        **extra,
    )
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists() and not Attendance.objects.exists()


@pytest.mark.django_db
def test_with_no_secret_configured_every_post_is_refused(api_client, settings):
    settings.PROSODY_EVENT_SECRET = ""
    school = make_class()
    assert post_prosody(api_client, joined_for(school), secret="").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({"event_name": "muc-occupant-joined"}).encode(), "room_name"),
        (
            json.dumps(
                {"event_name": "muc-occupant-left", "room_name": "x", "occupant": {}}
            ).encode(),
            "occupant.occupant_jid",
        ),
    ],
)
def test_unreadable_event_sync_bodies_are_400_naming_the_field(api_client, prosody, body, field):
    response = api_client.post(
        "/api/webhooks/prosody/events/occupant/left",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {PROSODY_SECRET}",
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.django_db
def test_unknown_event_sync_paths_are_not_handled(api_client, prosody):
    response = api_client.post(
        "/api/webhooks/prosody/events/occupant/exploded",
        data=b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {PROSODY_SECRET}",
    )
    assert response.status_code in (301, 404)  # Django's slash redirect, then 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_occupant_join_and_leave_make_one_reported_session_and_a_retry_changes_nothing(
    api_client, prosody
):
    school = make_class()
    assert post_prosody(api_client, joined_for(school)).json() == {
        "detail": "ok",
        "duplicate": False,
    }
    assert post_prosody(api_client, joined_for(school)).json()["duplicate"] is True
    left = joined_for(school, left_at=1791788400 + 1800)
    left["event_name"] = "muc-occupant-left"
    assert post_prosody(api_client, left).status_code == 200
    row = Attendance.objects.get(room=school.room)
    assert (
        row.source == AttendanceSource.JITSI_EVENT and row.get_source_display() == "Jitsi (Prosody)"
    )
    assert row.user == school.students["ALICE"] and row.person_id == str(row.user.pk)
    assert (row.left_at - row.joined_at).total_seconds() == 1800


@pytest.mark.django_db
def test_events_for_rooms_the_portal_does_not_know_are_accepted_and_ignored(api_client, prosody):
    body = dict(JOINED, room_name="someone-elses-room")
    assert post_prosody(api_client, body).status_code == 200
    assert not Attendance.objects.exists() and WebhookEvent.objects.count() == 1


def test_tenant_room_names_lose_their_tenant_and_the_jid_is_a_fallback():
    assert room_name_of({"room_name": "[school]Cedar-abc"}) == "cedar-abc"
    assert room_name_of({"room_jid": "cedar-xyz@conference.meet.example"}) == "cedar-xyz"


@pytest.mark.django_db
def test_room_and_moderator_events_are_read(api_client, prosody):
    school = make_class()
    created = {
        "event_name": "muc-room-created",
        "room_name": school.room.jitsi_room,
        "created_at": 1,
    }
    assert post_prosody(api_client, created).status_code == 200
    teacher = joined_for(school, id=str(school.teacher.pk), name="T", moderator="true")
    teacher["occupant"]["occupant_jid"] += "-teacher"
    post_prosody(api_client, teacher)
    assert Attendance.objects.get(user=school.teacher).role == "moderator"


# --- The embedded room ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_teachers_hang_up_ends_their_session_and_needs_the_csrf_token():
    school = make_class(start=None)
    room = school.room
    room_join_user(room=room, user=school.teacher, ip="10.0.0.1", now=room.scheduled_start)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(school.teacher)
    assert browser.post(f"/api/rooms/{room.pk}/left/").status_code == 403  # no CSRF token
    browser.get("/my/")  # sets the CSRF cookie, as the room's page does
    token = browser.cookies["csrftoken"].value
    response = browser.post(f"/api/rooms/{room.pk}/left/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and response.json() == {"ended": 1}
    row = Attendance.objects.get(room=room, user=school.teacher)
    assert row.left_at is not None
    # the page's beacon as it closes arrives too: nothing more to end
    again = browser.post(f"/api/rooms/{room.pk}/left/", HTTP_X_CSRFTOKEN=token)
    assert again.json() == {"ended": 0}


@pytest.mark.django_db
def test_only_signed_in_people_may_say_they_left(api_client):
    school = make_class()
    assert api_client.post(f"/api/rooms/{school.room.pk}/left/").status_code in (401, 403)
    api_client.force_authenticate(make_user("someone"))
    assert api_client.post("/api/rooms/999999/left/").status_code == 404


@pytest.mark.django_db
def test_the_embedded_room_page_carries_the_leave_url(client, settings):
    from django.utils import timezone

    school = make_class(start=timezone.now())
    client.force_login(school.teacher)
    page = client.post(f"/my/join/{school.lesson.pk}/")
    assert page.status_code == 200
    assert f'data-left-url="/api/rooms/{school.room.pk}/left/"' in page.content.decode()


# --- The room's close ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_sessions_still_open_end_at_the_close_in_one_update(
    django_capture_on_commit_callbacks, django_assert_num_queries
):
    school = make_class()
    room = school.room
    for hhmm, user in (("09:00", school.students["ALICE"]), ("09:05", school.students["BORIS"])):
        room_join_user(room=room, user=user, ip="10.0.0.1", now=at(DAY, hhmm))
    done = Attendance.objects.get(user=school.students["BORIS"])
    done.left_at = at(DAY, "09:30")
    done.save()
    with django_capture_on_commit_callbacks(execute=True):
        rooms_close(ids=[room.pk], now=at(DAY, "09:55"), reason=ClosedReason.ENDED)
    alice = Attendance.objects.get(user=school.students["ALICE"])
    assert alice.left_at == at(DAY, "09:55")
    done.refresh_from_db()
    assert done.left_at == at(DAY, "09:30")  # a closed session keeps its end
    room_join_user(room=room, user=school.students["EVA"], ip="10.0.0.1", now=at(DAY, "09:50"))
    room_join_user(room=room, user=school.students["FELIX"], ip="10.0.0.1", now=at(DAY, "09:51"))
    with django_assert_num_queries(1):
        assert sessions_end(room_id=room.pk, at=at(DAY, "09:56")) == 2


@pytest.mark.django_db
def test_every_join_starts_a_session_with_the_links_person_id():
    school = make_class()
    room_join_user(
        room=school.room, user=school.students["ALICE"], ip="1.2.3.4", now=at(DAY, "09:00")
    )
    room_join_user(
        room=school.room, user=school.students["ALICE"], ip="1.2.3.4", now=at(DAY, "09:20")
    )
    rows = Attendance.objects.filter(room=school.room).order_by("joined_at")
    assert [row.person_id for row in rows] == [str(school.students["ALICE"].pk)] * 2
    assert rows[0].get_source_display() == "Portal join"
