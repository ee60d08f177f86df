from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from tests.factories import enroll, make_lesson, make_room, make_user
from webinars.models import Attendance
from webinars.services.calendars import calendar_token_for, calendar_token_regenerate


@pytest.mark.django_db
def test_personal_feed_lists_the_users_lessons_and_dies_with_its_token(api_client):
    student = make_user("student")
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    mine = make_lesson(title="Fractions", start=start)
    enroll(student, mine.subject)
    make_lesson(title="Someone else's lesson")
    token = calendar_token_for(user=student)

    response = api_client.get(f"/api/calendar/{token.token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [f"Fractions ({mine.subject.code})"]
    assert events[0].decoded("dtstart") == mine.scheduled_start

    old = token.token
    calendar_token_regenerate(user=student)
    assert api_client.get(f"/api/calendar/{old}.ics").status_code == 404


@pytest.mark.django_db
def test_room_calendar_is_public_for_open_rooms_and_private_otherwise(api_client):
    open_room = make_room(make_lesson(is_open=True, title="Open day"))
    closed_room = make_room(make_lesson(title="Private"))
    body = api_client.get(f"/api/rooms/{open_room.pk}/calendar.ics").content
    assert "Open day" in body.decode() and f"/join/{open_room.public_slug}/" in body.decode()
    assert api_client.get(f"/api/rooms/{closed_room.pk}/calendar.ics").status_code in (401, 403)


@pytest.mark.django_db
def test_attendance_is_reported_to_the_teacher_as_json_and_csv(api_client):
    room = make_room()
    now = timezone.now()
    Attendance.objects.create(
        room=room,
        display_name="Ann",
        role="participant",
        joined_at=now,
        left_at=now + timedelta(minutes=30),
    )
    api_client.force_authenticate(room.lesson.teacher)
    rows = api_client.get(f"/api/rooms/{room.pk}/attendance/").json()
    assert rows[0]["display_name"] == "Ann" and rows[0]["duration_secs"] == 1800
    csv_body = api_client.get(f"/api/rooms/{room.pk}/attendance.csv").content.decode()
    assert csv_body.splitlines()[0].startswith("user,display_name") and "Ann" in csv_body

    api_client.force_authenticate(make_user("outsider"))
    assert api_client.get(f"/api/rooms/{room.pk}/attendance/").status_code == 403
