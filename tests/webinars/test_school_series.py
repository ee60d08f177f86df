"""Weekly series, closures and snow days: what the school sees happen to its lessons."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import at, make_lesson, make_recording, make_room, make_subject, make_user
from webinars.choices import ClosedReason, RoomStatus
from webinars.models import Lesson, LessonSeries, SchoolClass, SchoolClosure
from webinars.services.series import (
    closure_create,
    closure_delete,
    lessons_cancel_day,
    series_delete,
    series_generate,
    series_update,
)

BEFORE_TERM = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def school(db):
    return {
        "anna": make_user("anna", groups=("Teachers",), first_name="Anna", last_name="Ivanova"),
        "boris": make_user("boris", groups=("Teachers",), first_name="Boris", last_name="Petrov"),
        "maths": make_subject("Mathematics", "MATH"),
        "7a": SchoolClass.objects.create(name="7A"),
    }


def mondays(school, first=date(2026, 3, 16), last=date(2026, 4, 6), **fields) -> LessonSeries:
    defaults = {
        "subject": school["maths"],
        "school_class": school["7a"],
        "teacher": school["anna"],
        "title": "Algebra",
        "weekday": 1,
        "start_time": time(8, 30),
        "end_time": time(9, 15),
        "first_date": first,
        "last_date": last,
    }
    return LessonSeries(**{**defaults, **fields})


def starts(series) -> list[datetime]:
    return list(
        series.lessons.filter(is_cancelled=False)
        .order_by("scheduled_start")
        .values_list("scheduled_start", flat=True)
    )


@pytest.mark.django_db
def test_march_clock_change_keeps_the_wall_clock_time(school):
    series = mondays(school)  # 16 Mar – 6 Apr 2026; clocks go forward on Sunday 29 March
    counts = series_generate(series=series, now=BEFORE_TERM)
    assert counts.created == 4
    assert starts(series) == [
        datetime(2026, 3, 16, 7, 30, tzinfo=UTC),  # 08:30 CET
        datetime(2026, 3, 23, 7, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 6, 30, tzinfo=UTC),  # 08:30 CEST
        datetime(2026, 4, 6, 6, 30, tzinfo=UTC),
    ]
    assert all(lesson.title == "Algebra" for lesson in series.lessons.all())
    assert all(lesson.school_class == school["7a"] for lesson in series.lessons.all())


@pytest.mark.django_db
def test_october_clock_change_keeps_the_wall_clock_time(school):
    # Clocks go back on Sunday 25 October 2026.
    series = mondays(school, first=date(2026, 10, 19), last=date(2026, 11, 2), weekday=1)
    series_generate(series=series, now=BEFORE_TERM)
    assert starts(series) == [
        datetime(2026, 10, 19, 6, 30, tzinfo=UTC),  # 08:30 CEST
        datetime(2026, 10, 26, 7, 30, tzinfo=UTC),  # 08:30 CET
        datetime(2026, 11, 2, 7, 30, tzinfo=UTC),
    ]


@pytest.mark.django_db
def test_a_series_in_the_past_creates_only_future_lessons_unless_asked(school):
    now = at("2026-03-24", "12:00")
    counts = series_generate(series=mondays(school), now=now)
    assert (counts.created, counts.skipped_past) == (2, 2)
    other = mondays(school, school_class=None, teacher=school["boris"], start_time=time(10))
    other.end_time = time(10, 45)
    assert series_generate(series=other, allow_past=True, now=now).created == 4


@pytest.mark.django_db
def test_editing_a_series_changes_its_future_lessons_not_the_past_nor_hand_edited_ones(school):
    series = mondays(school)
    series_generate(series=series, now=BEFORE_TERM)
    first, second, third, fourth = series.lessons.order_by("scheduled_start")
    third.title = "Algebra — test"
    third.detached_from_series = True
    third.save()

    now = at("2026-03-20", "12:00")  # after the first lesson
    series.teacher = school["boris"]
    series.start_time, series.end_time = time(9, 0), time(9, 45)
    counts = series_update(series=series, co_teacher_ids=[school["anna"].pk], now=now)
    assert (counts.created, counts.updated, counts.cancelled) == (0, 2, 0)

    for lesson in (first, second, third, fourth):
        lesson.refresh_from_db()
    assert first.teacher == school["anna"] and first.scheduled_start == at("2026-03-16", "08:30")
    assert third.teacher == school["anna"] and third.scheduled_start == at("2026-03-30", "08:30")
    assert second.teacher == school["boris"] and second.scheduled_start == at("2026-03-23", "09:00")
    assert fourth.scheduled_start == at("2026-04-06", "09:00")
    assert list(fourth.co_teachers.all()) == [school["anna"]]
    assert list(series.co_teachers.all()) == [school["anna"]]


@pytest.mark.django_db
def test_a_shorter_range_cancels_future_lessons_and_a_longer_one_brings_them_back(school):
    series = mondays(school)
    series_generate(series=series, now=BEFORE_TERM)
    series.last_date = date(2026, 3, 23)
    counts = series_update(series=series, co_teacher_ids=[], now=BEFORE_TERM)
    assert counts.cancelled == 2
    assert series.lessons.count() == 4  # cancelled, not deleted: links keep saying so
    assert series.lessons.filter(is_cancelled=True).count() == 2

    series.last_date = date(2026, 4, 13)
    counts = series_update(series=series, co_teacher_ids=[], now=BEFORE_TERM)
    assert (counts.created, counts.updated) == (1, 2)
    assert len(starts(series)) == 5 and series.lessons.count() == 5


@pytest.mark.django_db
def test_a_new_weekday_moves_each_lesson_within_its_week(school):
    series = mondays(school)
    series_generate(series=series, now=BEFORE_TERM)
    ids = sorted(series.lessons.values_list("pk", flat=True))
    series.weekday = 3
    series_update(series=series, co_teacher_ids=[], now=BEFORE_TERM)
    assert sorted(series.lessons.values_list("pk", flat=True)) == ids
    assert starts(series)[0] == at("2026-03-18", "08:30")


@pytest.mark.django_db
def test_rooms_follow_series_edits_and_cancellations(school):
    now = at("2026-03-10", "12:00")
    series = mondays(school)
    series_generate(series=series, now=now)
    moved_room = make_room(series.lessons.order_by("scheduled_start")[0])
    cancelled_room = make_room(series.lessons.order_by("scheduled_start")[3])
    series.start_time, series.end_time = time(11, 0), time(11, 45)
    series.last_date = date(2026, 3, 30)
    series_update(series=series, co_teacher_ids=[], now=now)
    moved_room.refresh_from_db()
    cancelled_room.refresh_from_db()
    assert moved_room.scheduled_start == at("2026-03-16", "11:00")
    assert cancelled_room.status == RoomStatus.CLOSED
    assert cancelled_room.closed_reason == ClosedReason.CANCELLED


@pytest.mark.django_db
def test_a_series_clash_is_refused_naming_both_lessons(school):
    make_lesson(
        title="Staff meeting",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2026-03-23", "09:00"),
    )
    with pytest.raises(ValidationError) as raised:
        series_generate(series=mondays(school), now=BEFORE_TERM)
    message = raised.value.message_dict["teacher"][0]
    assert message == (
        "“Algebra” (MATH, 2026-03-23 08:30–09:15) overlaps “Staff meeting” "
        "(MATH, 2026-03-23 09:00–09:45): Anna Ivanova (anna) cannot be in both."
    )
    assert not LessonSeries.objects.exists()


@pytest.mark.django_db
def test_deleting_a_series_deletes_its_lessons_unless_one_has_a_ready_recording(school):
    series = mondays(school)
    series_generate(series=series, now=BEFORE_TERM)
    lessons = list(series.lessons.order_by("scheduled_start"))
    pending = make_room(lessons[0])
    make_recording(pending, status="PENDING", file="lessons/pending.mp4")
    make_recording(make_room(lessons[2]), status="READY")
    with pytest.raises(ValidationError) as raised:
        series_delete(series=series)
    assert raised.value.messages == [
        "“Algebra” cannot be deleted: its room has a finished recording. "
        "Cancel the lesson instead, or delete the recording first."
    ]
    assert LessonSeries.objects.exists() and Lesson.objects.count() == 4
    assert pending.recordings.count() == 1

    lessons[2].room.recordings.update(status="FAILED")
    series_delete(series=series)
    assert not LessonSeries.objects.exists() and not Lesson.objects.exists()


@pytest.mark.django_db
def test_a_closure_cancels_lessons_inside_it_and_blocks_generation(school):
    now = at("2026-03-01", "12:00")
    outside = make_lesson(
        subject=school["maths"], teacher=school["boris"], start=at("2026-03-27", "10:00")
    )
    room = make_room(
        make_lesson(
            subject=school["maths"], teacher=school["boris"], start=at("2026-03-30", "10:00")
        )
    )
    closure, cancelled = closure_create(
        start_date=date(2026, 3, 28), end_date=date(2026, 4, 5), reason="Spring break", now=now
    )
    assert cancelled == 1
    room.refresh_from_db()
    assert room.status == RoomStatus.CLOSED and room.closed_reason == ClosedReason.CANCELLED
    outside.refresh_from_db()
    assert not outside.is_cancelled

    series = mondays(school)
    series_generate(series=series, now=now)
    assert [start.date() for start in starts(series)] == [
        date(2026, 3, 16),
        date(2026, 3, 23),
        date(2026, 4, 6),
    ]
    assert closure_delete(closure=closure, now=now) == 1  # the series' 30 March is back
    assert len(starts(series)) == 4


@pytest.mark.django_db
def test_snow_day_cancels_the_rest_of_the_day(school):
    now = at("2026-03-16", "08:00")
    series = mondays(school)
    series_generate(series=series, now=BEFORE_TERM)
    elsewhere = make_lesson(
        subject=school["maths"], teacher=school["boris"], start=at("2026-03-17", "09:00")
    )
    closure, cancelled = lessons_cancel_day(day=date(2026, 3, 16), reason="Snow", now=now)
    assert cancelled == 1 and str(closure) == "Snow (2026-03-16)"
    assert series.lessons.filter(is_cancelled=True).get().scheduled_start == at(
        "2026-03-16", "08:30"
    )
    elsewhere.refresh_from_db()
    assert not elsewhere.is_cancelled


# --- Through the admin ----------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def series_form(school, **extra) -> dict:
    return {
        "subject": school["maths"].pk,
        "school_class": school["7a"].pk,
        "title": "Algebra",
        "weekday": 1,
        "start_time": "08:30",
        "end_time": "09:15",
        "first_date": "2027-03-15",
        "last_date": "2027-04-05",
        "teacher": school["anna"].pk,
        "co_teachers": [school["boris"].pk],
        "ref": "",
        **extra,
    }


@pytest.mark.django_db
def test_admin_creates_a_series_and_its_lessons_appear(school, admin_client):
    response = admin_client.post(reverse("series:add"), series_form(school), follow=True)
    series = LessonSeries.objects.get()
    assert series.lessons.count() == 4
    assert "4 lessons created, 0 updated, 0 cancelled" in response.content.decode()
    assert set(series.lessons.first().co_teachers.all()) == {school["boris"]}
    listing = admin_client.get(reverse("series:index")).content.decode()
    assert "Anna Ivanova (anna)" in listing and "Monday" in listing

    edit = admin_client.post(
        reverse("series:edit", args=[series.pk]),
        series_form(school, end_time="09:30", co_teachers=[]),
        follow=True,
    )
    assert "0 lessons created, 4 updated" in edit.content.decode()
    assert all(
        lesson.scheduled_end == lesson.scheduled_start + timedelta(hours=1)
        for lesson in series.lessons.all()
    )


@pytest.mark.django_db
def test_admin_series_form_shows_a_clash_and_saves_nothing(school, admin_client):
    make_lesson(
        title="Chess club",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2027-03-22", "09:00"),
    )
    response = admin_client.post(reverse("series:add"), series_form(school))
    assert response.status_code == 200
    text = " ".join(response.context["form"].errors["teacher"])
    assert "overlaps “Chess club”" in text and "Anna Ivanova (anna)" in text
    assert not LessonSeries.objects.exists()


@pytest.mark.django_db
def test_admin_edit_of_a_generated_lesson_detaches_it_from_the_series(school, admin_client):
    admin_client.post(reverse("series:add"), series_form(school, co_teachers=[]))
    series = LessonSeries.objects.get()
    lesson = series.lessons.order_by("scheduled_start").first()
    form = {
        "subject": lesson.subject_id,
        "title": "Algebra — revision",
        "description": "",
        "scheduled_start": "2027-03-15 08:30",
        "scheduled_end": "2027-03-15 09:15",
        "teacher": school["anna"].pk,
        "school_class": school["7a"].pk,
    }
    response = admin_client.post(reverse("lessons:edit", args=[lesson.pk]), form)
    assert response.status_code == 302, response.context["form"].errors
    lesson.refresh_from_db()
    assert lesson.detached_from_series and lesson.title == "Algebra — revision"

    admin_client.post(
        reverse("series:edit", args=[series.pk]),
        series_form(school, title="Algebra II", co_teachers=[]),
    )
    lesson.refresh_from_db()
    assert lesson.title == "Algebra — revision"
    assert series.lessons.filter(title="Algebra II").count() == 3


@pytest.mark.django_db
def test_admin_delete_of_a_series_with_a_ready_recording_is_refused(school, admin_client):
    admin_client.post(reverse("series:add"), series_form(school))
    series = LessonSeries.objects.get()
    make_recording(make_room(series.lessons.first()), status="READY")
    response = admin_client.post(reverse("series:delete", args=[series.pk]), follow=True)
    assert "finished recording" in response.content.decode()
    assert LessonSeries.objects.exists() and series.lessons.count() == 4


@pytest.mark.django_db
def test_admin_adds_a_closure_and_its_lessons_are_cancelled(school, admin_client):
    admin_client.post(reverse("series:add"), series_form(school))
    response = admin_client.post(
        reverse("closures:add"),
        {"start_date": "2027-03-20", "end_date": "2027-03-28", "reason": "Spring break"},
        follow=True,
    )
    assert "1 lessons cancelled" in response.content.decode()
    assert SchoolClosure.objects.get().reason == "Spring break"
    assert Lesson.objects.filter(is_cancelled=True).count() == 1


@pytest.mark.django_db
def test_admin_snow_day_previews_the_lessons_then_cancels_them(school, admin_client):
    admin_client.post(reverse("series:add"), series_form(school))
    url = reverse("lessons:snow_day")
    assert url in admin_client.get(reverse("lessons:index")).content.decode()
    preview = admin_client.post(url, {"day": "22.03.2027", "reason": "Snow"})
    text = preview.content.decode()
    assert "1 lesson will be cancelled" in text and "Algebra" in text
    assert not Lesson.objects.filter(is_cancelled=True).exists()
    done = admin_client.post(
        url, {"day": "2027-03-22", "reason": "Snow", "confirm": "1"}, follow=True
    )
    assert "Snow (2027-03-22): 1 lessons cancelled." in done.content.decode()
    assert Lesson.objects.get(is_cancelled=True).scheduled_start == at("2027-03-22", "08:30")
    bad = admin_client.post(url, {"day": "someday", "reason": "Snow"})
    assert "day" in bad.context["form"].errors
