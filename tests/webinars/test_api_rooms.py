"""Room endpoints: by-lesson with force, meetings, metadata, close (docs/roles.md)."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework import status
from rest_framework.test import APIClient

from tests.factories import enroll, make_guardian, make_lesson, make_room, make_user
from webinars.choices import ClosedReason, RoomStatus, RoomType
from webinars.models import Room
from webinars.pages import MeetingPage


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def by_lesson(client, lesson, **params):
    return client.get(f"/api/rooms/by-lesson/{lesson.pk}/", params)


@pytest.fixture
def future_lesson(db):
    return make_lesson(start=datetime.now(UTC) + timedelta(days=2))


@pytest.fixture
def student(future_lesson):
    user = make_user()
    enroll(user, future_lesson.subject)
    return user


# --- by-lesson ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_inside_the_window_reading_the_lesson_creates_its_room(student):
    lesson = make_lesson(start=datetime.now(UTC) + timedelta(minutes=5))
    enroll(student, lesson.subject)
    response = by_lesson(client_for(student), lesson)
    assert response.status_code == status.HTTP_200_OK
    room = Room.objects.get(lesson=lesson)
    assert response.json()["id"] == room.pk and response.json()["lesson"]["id"] == lesson.pk


@pytest.mark.django_db
def test_outside_the_window_without_force_answers_409_with_opens_at(future_lesson):
    response = by_lesson(client_for(future_lesson.teacher), future_lesson, tz="Europe/Amsterdam")
    assert response.status_code == status.HTTP_409_CONFLICT
    body = response.json()
    opens_at = datetime.fromisoformat(body["opens_at"])
    assert opens_at == future_lesson.scheduled_start - timedelta(minutes=15)
    assert body["opens_at"].endswith(("+01:00", "+02:00"))
    assert "force=1" in body["detail"]
    assert not Room.objects.filter(lesson=future_lesson).exists()


@pytest.mark.django_db
def test_the_teacher_may_force_the_room_outside_the_window(future_lesson):
    response = by_lesson(client_for(future_lesson.teacher), future_lesson, force=1)
    assert response.status_code == status.HTTP_200_OK
    assert Room.objects.get(lesson=future_lesson).pk == response.json()["id"]


@pytest.mark.django_db
def test_a_co_teacher_and_an_admin_may_force_too(future_lesson, admin_api):
    co_teacher = make_user()
    future_lesson.co_teachers.add(co_teacher)
    assert by_lesson(client_for(co_teacher), future_lesson, force=1).status_code == 200
    other = make_lesson(start=future_lesson.scheduled_start)
    assert by_lesson(admin_api, other, force="1").status_code == 200
    assert Room.objects.filter(lesson__in=[future_lesson, other]).count() == 2


@pytest.mark.django_db
def test_students_parents_and_school_staff_may_not_force(future_lesson, student):
    parent = make_user()
    make_guardian(parent, student)
    director = make_user(groups=["Director"])
    for user in (student, parent, director):
        response = by_lesson(client_for(user), future_lesson, force=1)
        assert response.status_code == status.HTTP_403_FORBIDDEN, user
        assert "force=1" in response.json()["detail"]
    assert not Room.objects.filter(lesson=future_lesson).exists()


@pytest.mark.django_db
def test_students_and_parents_read_an_existing_rooms_metadata(future_lesson, student):
    room = make_room(future_lesson)
    parent = make_user()
    make_guardian(parent, student)
    for user in (student, parent):
        response = by_lesson(client_for(user), future_lesson, force=1)
        assert response.status_code == status.HTTP_200_OK
        assert response.json()["jitsi_room"] == room.jitsi_room


@pytest.mark.django_db
def test_outsiders_and_anonymous_callers_cannot_read_a_closed_lesson(future_lesson, api_client):
    make_room(future_lesson)
    response = by_lesson(client_for(make_user()), future_lesson)
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert "jitsi_room" not in response.json()
    assert by_lesson(api_client, future_lesson).status_code == status.HTTP_401_UNAUTHORIZED


@pytest.mark.django_db
def test_any_signed_in_user_reads_an_open_lessons_room():
    lesson = make_lesson(start=datetime.now(UTC) + timedelta(minutes=5), is_open=True)
    response = by_lesson(client_for(make_user()), lesson)
    assert response.status_code == status.HTTP_200_OK and response.json()["is_open"] is True


@pytest.mark.django_db
def test_a_cancelled_lesson_without_a_room_is_gone(admin_api):
    lesson = make_lesson(start=datetime.now(UTC) + timedelta(minutes=5), is_cancelled=True)
    response = by_lesson(admin_api, lesson, force=1)
    assert response.status_code == status.HTTP_410_GONE
    assert not Room.objects.filter(lesson=lesson).exists()


@pytest.mark.django_db
def test_an_unknown_lesson_is_404(admin_api):
    response = admin_api.get("/api/rooms/by-lesson/999999/")
    assert response.status_code == status.HTTP_404_NOT_FOUND and "detail" in response.json()


# --- meetings -----------------------------------------------------------------------------

MEETING = {
    "title": "Parents' evening",
    "scheduled_start": "2030-05-01T18:00:00+03:00",
    "scheduled_end": "2030-05-01T19:30:00+03:00",
    "is_open": True,
}


@pytest.mark.django_db
def test_staff_create_a_meeting_page_and_its_room():
    head = make_user(groups=["Head teacher"])
    response = client_for(head).post("/api/rooms/meeting/", MEETING, format="json")
    assert response.status_code == status.HTTP_201_CREATED, response.json()
    body = response.json()
    room = Room.objects.get(pk=body["id"])
    assert room.type == RoomType.MEETING and body["title"] == "Parents' evening"
    assert room.scheduled_start == datetime(2030, 5, 1, 15, tzinfo=UTC)
    assert body["scheduled_start"] == "2030-05-01T15:00:00+00:00"
    page = MeetingPage.objects.get(room=room)
    assert page.live and list(page.hosts.all()) == [head]


@pytest.mark.django_db
def test_a_naive_datetime_is_rejected_with_a_clear_message(admin_api):
    payload = {**MEETING, "scheduled_start": "2030-05-01T18:00:00"}
    response = admin_api.post("/api/rooms/meeting/", payload, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    body = response.json()
    assert body["detail"] == "Invalid input: scheduled_start."
    assert "UTC offset" in body["errors"]["scheduled_start"][0]
    assert not MeetingPage.objects.exists()


@pytest.mark.parametrize(
    ("end", "message"),
    [
        ("2030-05-01T18:00:00+03:00", "after the start"),
        ("2030-05-01T17:59:00+03:00", "after the start"),
        ("2030-05-02T06:00:01+03:00", "12 hours"),
        ("not a date", "Datetime has wrong format"),
    ],
)
@pytest.mark.django_db
def test_meeting_times_must_make_sense(admin_api, end, message):
    response = admin_api.post(
        "/api/rooms/meeting/", {**MEETING, "scheduled_end": end}, format="json"
    )
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert message in response.json()["errors"]["scheduled_end"][0]
    assert not Room.objects.exists()


@pytest.mark.django_db
def test_teachers_and_students_cannot_create_meetings(future_lesson, student):
    for user in (future_lesson.teacher, student):
        response = client_for(user).post("/api/rooms/meeting/", MEETING, format="json")
        assert response.status_code == status.HTTP_403_FORBIDDEN
    assert not MeetingPage.objects.exists()


# --- detail and close ---------------------------------------------------------------------


@pytest.mark.django_db
def test_room_detail_for_people_with_a_role_only(future_lesson, student):
    room = make_room(future_lesson)
    ok = client_for(student).get(f"/api/rooms/{room.pk}/", {"tz": "Europe/Amsterdam"})
    assert ok.status_code == status.HTTP_200_OK
    assert ok.json()["window_start"].endswith("+01:00") or ok.json()["window_start"].endswith(
        "+02:00"
    )
    assert client_for(make_user()).get(f"/api/rooms/{room.pk}/").status_code == 403
    assert client_for(student).get("/api/rooms/999999/").status_code == 404


@pytest.mark.django_db
def test_the_teacher_closes_the_room_with_reason_forced(future_lesson):
    room = make_room(future_lesson)
    response = client_for(future_lesson.teacher).post(f"/api/rooms/{room.pk}/close/")
    assert response.status_code == status.HTTP_200_OK
    assert (response.json()["status"], response.json()["closed_reason"]) == (
        RoomStatus.CLOSED,
        ClosedReason.FORCED,
    )
    again = client_for(future_lesson.teacher).post(f"/api/rooms/{room.pk}/close/")
    assert again.status_code == 200 and again.json()["ended_at"] == response.json()["ended_at"]


@pytest.mark.django_db
def test_students_and_observers_cannot_close(future_lesson, student, admin_api):
    room = make_room(future_lesson)
    director = make_user(groups=["Director"])
    for user in (student, director, make_user()):
        assert client_for(user).post(f"/api/rooms/{room.pk}/close/").status_code == 403
    room.refresh_from_db()
    assert room.status == RoomStatus.SCHEDULED
    assert admin_api.post(f"/api/rooms/{room.pk}/close/").status_code == 200


@pytest.mark.django_db
def test_a_meeting_host_closes_their_meeting(admin_api):
    host = make_user(groups=["Methodist"])
    created = client_for(host).post("/api/rooms/meeting/", MEETING, format="json").json()
    assert client_for(make_user()).post(f"/api/rooms/{created['id']}/close/").status_code == 403
    response = client_for(host).post(f"/api/rooms/{created['id']}/close/")
    assert response.status_code == 200 and response.json()["status"] == RoomStatus.CLOSED
