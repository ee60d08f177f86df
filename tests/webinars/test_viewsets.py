"""The Wagtail admin flow for the timetable, as a superuser uses it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_lesson, make_room, make_subject, make_user
from webinars.models import Lesson


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def lesson_form(subject, teacher, start: str, end: str, **extra) -> dict:
    return {
        "subject": subject.pk,
        "title": "Photosynthesis",
        "description": "",
        "scheduled_start": start,
        "scheduled_end": end,
        "teacher": teacher.pk,
        "allow_past": "on",  # the fixed dates below may lie in the past when the suite runs
        **extra,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "utc_start", "utc_end"),
    [
        # Summer time (CEST, UTC+2), ISO with a "T".
        (
            "2026-09-01T08:30",
            "2026-09-01T09:15",
            datetime(2026, 9, 1, 6, 30),
            datetime(2026, 9, 1, 7, 15),
        ),
        # Winter time (CET, UTC+1), ISO with a space.
        (
            "2026-11-02 08:30",
            "2026-11-02 09:15",
            datetime(2026, 11, 2, 7, 30),
            datetime(2026, 11, 2, 8, 15),
        ),
        # Russian-style date; spans the October DST change (25 Oct 2026, 03:00 CEST → 02:00 CET).
        (
            "25.10.2026 01:30",
            "25.10.2026 03:30",
            datetime(2026, 10, 24, 23, 30),
            datetime(2026, 10, 25, 2, 30),
        ),
    ],
)
def test_admin_creates_a_lesson_from_school_time_in_each_format(
    admin_client, start, end, utc_start, utc_end
):
    subject, teacher = make_subject(), make_user("teacher", groups=("Teachers",))
    response = admin_client.post(reverse("lessons:add"), lesson_form(subject, teacher, start, end))
    assert response.status_code == 302, response.context["form"].errors
    lesson = Lesson.objects.get()
    assert lesson.scheduled_start == utc_start.replace(tzinfo=UTC)
    assert lesson.scheduled_end == utc_end.replace(tzinfo=UTC)

    edit = admin_client.get(reverse("lessons:edit", args=[lesson.pk]))
    assert start.replace("T", " ").split(" ")[-1] in edit.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-13-45 08:00", "2026-09-01 09:00", "scheduled_start", "Enter a valid date/time"),
        (
            "2026-09-01 10:00",
            "2026-09-01 09:00",
            "scheduled_end",
            "The end must be after the start",
        ),
        ("2026-09-01 08:00", "2026-09-01 21:00", "scheduled_end", "at most 12 hours"),
        # 02:30 does not exist in Amsterdam on 29 March 2026 (clocks jump 02:00 → 03:00).
        ("29.03.2026 02:30", "29.03.2026 04:00", "scheduled_start", "may not exist"),
    ],
)
def test_bad_lesson_times_show_the_field_error_and_save_nothing(
    admin_client, start, end, field, message
):
    subject, teacher = make_subject(), make_user("teacher", groups=("Teachers",))
    response = admin_client.post(reverse("lessons:add"), lesson_form(subject, teacher, start, end))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not Lesson.objects.exists()


@pytest.mark.django_db
def test_lesson_list_shows_times_in_the_school_zone_named_and_filters_by_subject(admin_client):
    maths, art = make_subject("Maths", "MA"), make_subject("Art", "AR")
    make_lesson(subject=maths, title="Fractions", start=datetime(2026, 9, 1, 6, 30, tzinfo=UTC))
    make_lesson(subject=art, title="Watercolours")
    page = admin_client.get(reverse("lessons:index")).content.decode()
    assert "Europe/Amsterdam" in page and "2026-09-01 08:30" in page
    filtered = admin_client.get(reverse("lessons:index"), {"subject": maths.pk}).content.decode()
    assert "Fractions" in filtered and "Watercolours" not in filtered
    searched = admin_client.get(reverse("lessons:index"), {"q": "Water"}).content.decode()
    assert "Watercolours" in searched and "Fractions" not in searched


@pytest.mark.django_db
def test_lesson_list_exports_a_spreadsheet(admin_client):
    make_lesson(title="Fractions")
    response = admin_client.get(reverse("lessons:index"), {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "Fractions" in body.splitlines()[1]


@pytest.mark.django_db
def test_rooms_are_listed_with_their_state_and_cannot_be_added_by_hand(admin_client):
    room = make_room(make_lesson(title="Fractions"))
    page = admin_client.get(reverse("rooms:index")).content.decode()
    assert "Fractions" in page and "Scheduled" in page
    assert reverse("rooms:add") not in page
    assert admin_client.get(reverse("rooms:add")).status_code in (302, 403)
    assert admin_client.get(reverse("rooms:inspect", args=[room.pk])).status_code == 200


@pytest.mark.django_db
def test_webinars_menu_groups_the_timetable(admin_client):
    page = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    for label in ("Webinars", "Lessons", "Subjects", "Enrollments", "Recordings"):
        assert label in page


@pytest.mark.django_db
def test_admin_force_closes_a_room_from_its_row_menu(admin_client):
    room = make_room(make_lesson(title="Fractions"))
    index = admin_client.get(reverse("rooms:index")).content.decode()
    close_url = reverse("rooms:close_now", args=[room.pk])
    assert close_url in index
    assert "Close" in admin_client.get(close_url).content.decode()
    response = admin_client.post(close_url, follow=True)
    room.refresh_from_db()
    assert room.status == "CLOSED" and room.closed_reason == "forced"
    assert "closed" in response.content.decode()
    again = admin_client.post(close_url, follow=True).content.decode()
    assert "already closed" in again


@pytest.mark.django_db
def test_admin_regenerates_a_public_link_and_the_old_one_stops_working(admin_client, client):
    room = make_room(make_lesson(is_open=True))
    old_slug = room.public_slug
    admin_client.post(reverse("rooms:regenerate_link", args=[room.pk]))
    room.refresh_from_db()
    assert room.public_slug != old_slug
    response = client.post(
        f"/api/rooms/public/{old_slug}/join/", {}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_rooms_actions_need_change_permission(client):
    room = make_room()
    client.force_login(make_user("clerk", is_staff=True))
    response = client.post(reverse("rooms:close_now", args=[room.pk]))
    assert response.status_code in (302, 403)
    room.refresh_from_db()
    assert room.status == "SCHEDULED"


@pytest.mark.django_db
def test_admin_dashboard_shows_live_rooms_the_next_day_and_failed_recordings(admin_client):
    from django.utils import timezone

    from tests.factories import make_recording
    from webinars.services.rooms import room_open

    live = make_room(make_lesson(title="Live algebra", start=timezone.now()))
    room_open(room=live)
    make_lesson(title="Tomorrow's poetry", start=timezone.now() + timedelta(hours=20))
    make_recording(
        make_room(make_lesson(title="Broken chemistry")),
        status="FAILED",
        meta={"error": "HTTP 404"},
    )
    page = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Live algebra" in page and "Tomorrow&#x27;s poetry" in page
    assert "HTTP 404" in page and reverse("recordings:retry", args=[1]).rsplit("/", 2)[0] in page


@pytest.mark.django_db
def test_admin_retry_of_a_ready_recording_is_refused_in_words(admin_client):
    from tests.factories import make_recording

    recording = make_recording(make_room(), status="READY")
    response = admin_client.post(reverse("recordings:retry", args=[recording.pk]), follow=True)
    recording.refresh_from_db()
    assert recording.status == "READY"
    messages = [str(m).strip() for m in response.context["messages"]]
    assert messages == ["This recording is already ready."]


@pytest.mark.django_db
def test_admin_retries_a_failed_jaas_download(admin_client, monkeypatch):
    from tests.factories import make_recording

    queued = []
    monkeypatch.setattr(
        "webinars.recordings.ingest.async_task", lambda *args, **kwargs: queued.append(args)
    )
    recording = make_recording(
        make_room(),
        status="FAILED",
        meta={"source": "jaas", "url": "https://8x8.vc/rec.mp4", "error": "timeout", "attempts": 5},
    )
    response = admin_client.post(reverse("recordings:retry", args=[recording.pk]), follow=True)
    recording.refresh_from_db()
    assert recording.status == "PENDING", [str(m) for m in response.context["messages"]]
    assert queued == [("webinars.tasks.download_recording", recording.pk)]


@pytest.mark.django_db
def test_deleting_a_meeting_page_with_a_ready_recording_is_refused(admin_client):
    from tests.factories import make_recording
    from webinars.management.commands.seed_demo import ensure_site_sections
    from webinars.pages import MeetingPage

    _feed, meetings = ensure_site_sections()
    start = timezone.now() + timedelta(days=1)
    page = meetings.add_child(
        instance=MeetingPage(
            title="Assembly",
            slug="assembly",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
        )
    )
    page.save_revision().publish()
    page.refresh_from_db()
    make_recording(page.room, status="READY")
    response = admin_client.post(reverse("wagtailadmin_pages:delete", args=[page.pk]), follow=True)
    assert MeetingPage.objects.filter(pk=page.pk).exists()
    assert "finished recording" in response.content.decode()
