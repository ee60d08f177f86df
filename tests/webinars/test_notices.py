"""Notices: who is told what, once, in their language (docs/notices.md)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import make_lesson, make_user
from tests.webinars.register_factories import make_class
from webinars.choices import ClosedReason, NoticeKind, NoticeStatus, RecordingStatus
from webinars.events import RecordingStateChanged, emit
from webinars.models import Attendance, Notice, PersonPreferences
from webinars.selectors.notices import lesson_audience
from webinars.services.notices import (
    notices_plan,
    notices_send_pending,
    notices_tick,
    reminders_plan,
)
from webinars.services.rooms import room_close


def soon(minutes: int = 25):
    return timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def inbox() -> dict[str, list]:
    """Messages by recipient."""
    found: dict[str, list] = {}
    for message in mail.outbox:
        for address in message.to:
            found.setdefault(address, []).append(message)
    return found


def everyone(school) -> set[str]:
    return {user.email for user in school.people.values()}


@pytest.fixture
def school(db):
    return make_class(start=soon(25), is_open=False)


# --- Reminders -------------------------------------------------------------------------------


def test_the_reminder_goes_to_teacher_students_and_parents_once(school):
    result = notices_tick()
    assert result == {"planned": 8, "sent": 8}
    assert set(inbox()) == everyone(school)
    message = inbox()["paula@school.test"][0]
    assert message.subject.startswith("Starting soon, at ") and "Fractions" in message.subject
    assert "This is about your child Alice Brown." in message.body
    assert "http://testserver/my/" in message.body
    assert "(Europe/Amsterdam)" in message.body

    assert notices_tick() == {"planned": 0, "sent": 0}  # the next minute: nothing again
    assert len(mail.outbox) == 8


def test_two_ticks_at_once_plan_each_notice_once_and_send_it_once(school):
    assert reminders_plan(now=timezone.now()) == 8
    # a second tick that read the lesson before the first one's rows existed offers them again…
    again = notices_plan(
        kind=NoticeKind.REMINDER,
        people=lesson_audience(lesson=school.lesson),
        version=school.lesson.sequence,
        lesson=school.lesson,
    )
    assert again == 8 and Notice.objects.count() == 8  # … the unique constraint keeps one each
    assert notices_send_pending() == 8
    assert notices_send_pending() == 0
    assert len(mail.outbox) == 8


def test_a_worker_that_died_after_planning_leaves_the_notices_for_the_next_tick(school):
    reminders_plan(now=timezone.now())  # then the worker was killed before sending
    assert mail.outbox == []
    notices_tick()
    assert len(mail.outbox) == 8 and Notice.objects.filter(status=NoticeStatus.SENT).count() == 8


def test_no_reminder_before_the_window_after_the_start_or_for_a_cancelled_lesson(db):
    make_class(start=soon(45))
    cancelled = make_lesson(start=soon(10))
    cancelled.is_cancelled = True
    cancelled.save()
    make_lesson(start=timezone.now() - timedelta(minutes=1))  # already started
    assert notices_tick() == {"planned": 0, "sent": 0}
    assert mail.outbox == []


def test_people_who_opted_out_get_no_reminder_and_the_log_says_why(school):
    alice = school.students["ALICE"]
    PersonPreferences.objects.create(user=alice, reminders_opt_out=True)
    nobody = school.students["EVA"]
    nobody.email = ""
    nobody.save()
    notices_tick()
    assert alice.email not in inbox() and len(mail.outbox) == 6
    assert Notice.objects.get(person=alice).status == NoticeStatus.OPTED_OUT
    assert Notice.objects.get(person=nobody).status == NoticeStatus.NO_ADDRESS


def test_each_person_is_written_to_in_their_language(school):
    PersonPreferences.objects.create(user=school.parent, language="ru")
    notices_tick()
    paula = inbox()["paula@school.test"][0]
    assert paula.subject.startswith("Скоро начнётся") and "Fractions" in paula.subject
    assert "Это касается вашего ребёнка: Alice Brown." in paula.body
    assert inbox()["alice@school.test"][0].subject.startswith("Starting soon")
    assert Notice.objects.get(person=school.parent).language == "ru"


def test_inactive_people_and_outsiders_are_not_told(school):
    school.students["FELIX"].is_active = False
    school.students["FELIX"].save()
    make_user("director", groups=["Director"])  # observes every lesson, told of none
    notices_tick()
    assert set(inbox()) == everyone(school) - {"felix@school.test"}


def test_the_idle_tick_is_a_few_queries(school, django_assert_max_num_queries):
    notices_tick()
    for n in range(30):
        make_lesson(start=soon(60 * 24 + n))
    with django_assert_max_num_queries(10):
        assert notices_tick() == {"planned": 0, "sent": 0}


# --- Cancellations and changes of time --------------------------------------------------------


def save(lesson, django_capture_on_commit_callbacks, **changes):
    for name, value in changes.items():
        setattr(lesson, name, value)
    with django_capture_on_commit_callbacks(execute=True):
        lesson.save()


def test_a_cancellation_is_told_once_even_if_the_lesson_is_saved_again(
    school, django_capture_on_commit_callbacks
):
    save(school.lesson, django_capture_on_commit_callbacks, is_cancelled=True)
    assert set(inbox()) == everyone(school)
    assert all(m.subject == "Cancelled: Fractions" for m in mail.outbox)
    save(school.lesson, django_capture_on_commit_callbacks, title="Fractions")  # edited again
    save(school.lesson, django_capture_on_commit_callbacks, description="Snow")
    assert len(mail.outbox) == 8
    assert notices_tick() == {"planned": 0, "sent": 0}  # and no reminder for it


def test_a_snow_days_cancellations_reach_the_people_of_every_lesson(
    db, django_capture_on_commit_callbacks
):
    teacher = make_user("t2")
    lessons = [make_lesson(start=soon(60 * 24 + 60 * n), teacher=teacher) for n in range(3)]
    for lesson in lessons:  # a closure cancels each lesson through save()
        save(lesson, django_capture_on_commit_callbacks, is_cancelled=True)
    assert [m.subject for m in inbox()[teacher.email]] == [
        f"Cancelled: {lesson.title}" for lesson in lessons
    ]


def test_a_new_time_is_told_once_per_change_and_the_reminder_follows_it(
    school, django_capture_on_commit_callbacks
):
    notices_tick()  # the reminder for the old time
    mail.outbox.clear()
    lesson = school.lesson
    save(
        lesson,
        django_capture_on_commit_callbacks,
        scheduled_start=lesson.scheduled_start + timedelta(hours=2),
        scheduled_end=lesson.scheduled_end + timedelta(hours=2),
    )
    assert set(inbox()) == everyone(school)
    assert mail.outbox[0].subject == "New time: Fractions"
    save(lesson, django_capture_on_commit_callbacks, title="Fractions")  # no second notice
    assert len(mail.outbox) == 8
    lesson.refresh_from_db()
    assert lesson.sequence == 1
    reminders = notices_tick(now=lesson.scheduled_start - timedelta(minutes=20))
    assert reminders["sent"] == 8  # the new time gets its own reminder


def test_an_uncancelled_lesson_is_told_it_is_back_on(school, django_capture_on_commit_callbacks):
    save(school.lesson, django_capture_on_commit_callbacks, is_cancelled=True)
    save(school.lesson, django_capture_on_commit_callbacks, is_cancelled=False)
    subjects = [m.subject for m in inbox()["alice@school.test"]]
    assert subjects == ["Cancelled: Fractions", "New time: Fractions"]


def test_nothing_is_sent_for_a_past_lesson(db, django_capture_on_commit_callbacks):
    past = make_lesson(start=timezone.now() - timedelta(days=2))
    save(past, django_capture_on_commit_callbacks, is_cancelled=True)
    save(
        past,
        django_capture_on_commit_callbacks,
        scheduled_start=past.scheduled_start + timedelta(hours=1),
        scheduled_end=past.scheduled_end + timedelta(hours=1),
    )
    assert mail.outbox == [] and not Notice.objects.exists()


def test_a_title_edit_is_no_news(school, django_capture_on_commit_callbacks):
    save(school.lesson, django_capture_on_commit_callbacks, title="Fractions II")
    assert mail.outbox == []


# --- Recordings and the register ---------------------------------------------------------------


def test_a_ready_recording_is_told_to_everyone_it_is_for(
    school, django_capture_on_commit_callbacks
):
    recording = school.room.recordings.create(status=RecordingStatus.READY)
    with django_capture_on_commit_callbacks(execute=True):
        emit(
            RecordingStateChanged(
                recording_id=recording.pk,
                room_id=school.room.pk,
                previous=RecordingStatus.PENDING,
                status=RecordingStatus.READY,
                at=timezone.now(),
            )
        )
    assert set(inbox()) == everyone(school)
    assert mail.outbox[0].subject == "Recording ready: Fractions"
    assert "http://testserver/my/" in mail.outbox[0].body


def test_the_teacher_gets_the_register_when_the_room_closes(db, django_capture_on_commit_callbacks):
    school = make_class(start=timezone.now() - timedelta(minutes=55), is_open=False)
    start = school.lesson.scheduled_start
    Attendance.objects.create(
        room=school.room,
        user=school.students["ALICE"],
        display_name="Alice Brown",
        role="participant",
        joined_at=start,
    )
    with django_capture_on_commit_callbacks(execute=True):
        room_close(room=school.room)
    assert list(inbox()) == [school.teacher.email]
    message = mail.outbox[0]
    assert message.subject == "Register: Fractions"
    assert "Present 1, late 0, left early 0, absent 5." in message.body
    assert "- Alice Brown: Present" in message.body and "- Eva Novak: Absent" in message.body
    name, content, mimetype = message.attachments[0]
    assert name.startswith("register-") and mimetype == "text/csv" and "Alice Brown" in content
    notice = Notice.objects.get(kind=NoticeKind.REGISTER)
    assert notice.person == school.teacher and notice.sent_at is not None


def test_no_register_for_a_cancelled_lesson_or_when_switched_off(
    db, django_capture_on_commit_callbacks, settings
):
    first = make_class(start=soon(60))
    with django_capture_on_commit_callbacks(execute=True):
        room_close(room=first.room, reason=ClosedReason.CANCELLED)
    settings.REGISTER_EMAIL_TEACHER = False
    second = make_lesson(start=soon(90))
    from tests.factories import make_room

    room = make_room(second)
    with django_capture_on_commit_callbacks(execute=True):
        room_close(room=room)
    assert mail.outbox == []


# --- Delivery ------------------------------------------------------------------------------------


def test_a_mail_outage_marks_the_notices_failed_and_sends_nothing_twice(school, settings):
    settings.EMAIL_BACKEND = "tests.webinars.test_notices.BrokenBackend"
    notices_tick()
    assert set(Notice.objects.values_list("status", flat=True)) == {NoticeStatus.FAILED}
    assert "refused" in Notice.objects.first().error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notices_tick()
    assert mail.outbox == []


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        raise ConnectionRefusedError("connection refused")

    def close(self):
        pass


def test_the_admin_lists_who_was_told_what(school, admin_client):
    notices_tick()
    page = admin_client.get("/admin/notices/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "paula" in body and "Reminder" in body and "Sent" in body
    assert admin_client.get("/admin/notices/new/").status_code in (403, 404, 302)
