"""Signal receivers: keep side effects of model and page events in one place."""

# --- Room lifecycle (issue 3): lessons, meeting pages, the installed Schedule -------------

from django.apps import apps as _apps  # noqa: E402
from django.db.models.signals import post_delete, post_migrate, post_save, pre_save  # noqa: E402
from django.dispatch import receiver  # noqa: E402
from wagtail.signals import page_published, page_unpublished, post_page_move  # noqa: E402

from webinars.models import Lesson, Room  # noqa: E402
from webinars.pages import MeetingIndexPage, MeetingPage, OpenLessonsPage  # noqa: E402
from webinars.public import caching  # noqa: E402
from webinars.services import webhooks as _webhook_subscribers  # noqa: E402, F401


@receiver(pre_save, sender=Lesson, dispatch_uid="webinars.lesson_was_cancelled")
def lesson_was_cancelled(sender, instance: Lesson, raw: bool = False, **kwargs):
    """Note whether the stored row was cancelled, so the save can tell "cancelled" news."""
    if raw or instance._state.adding:
        return
    stored = Lesson.objects.filter(pk=instance.pk).values_list("is_cancelled", flat=True)
    instance._stored_is_cancelled = stored.first()


@receiver(post_save, sender=Lesson, dispatch_uid="webinars.lesson_announced")
def lesson_announced(sender, instance: Lesson, created: bool, raw: bool = False, **kwargs):
    """lesson_created / lesson_cancelled / lesson_updated after commit (docs/lifecycle.md).

    Connected before ``lesson_room_follows``, so the lesson's news precedes its room's.
    """
    if raw:
        return
    from django.utils import timezone

    from webinars.events import LessonCancelled, LessonCreated, LessonUpdated, emit

    if created:
        event = LessonCreated
    elif instance.is_cancelled and getattr(instance, "_stored_is_cancelled", None) is False:
        event = LessonCancelled
    else:
        event = LessonUpdated
    instance.__dict__.pop("_stored_is_cancelled", None)
    emit(event(lesson_id=instance.pk, at=timezone.now()))


@receiver(post_save, sender=Lesson, dispatch_uid="webinars.lesson_room_follows")
def lesson_room_follows(sender, instance: Lesson, created: bool, raw: bool = False, **kwargs):
    """Cancelling closes the lesson's room, rescheduling moves an unclosed one, and an open
    lesson saved inside the horizon gets its room and public link (docs/lifecycle.md)."""
    if raw:
        return
    from webinars.services.lessons import room_follow_lesson
    from webinars.services.rooms import open_lesson_room_ensure

    if not created:
        room_follow_lesson(lesson=instance)
    open_lesson_room_ensure(lesson=instance)


@receiver(pre_save, sender=MeetingPage, dispatch_uid="webinars.meeting_page_keeps_room")
def meeting_page_keeps_room(sender, instance, raw: bool = False, **kwargs):
    """Publishing an old revision must not unlink the page's room (revisions predate it)."""
    if raw or instance.pk is None or instance.room_id is not None:
        return
    instance.room_id = (
        MeetingPage.objects.filter(pk=instance.pk).values_list("room_id", flat=True).first()
    )


@receiver(page_published, dispatch_uid="webinars.meeting_page_room")
def meeting_page_room(sender, instance, **kwargs):
    """A published MeetingPage owns a MEETING room, kept in step with the page."""
    if not isinstance(instance, MeetingPage):
        return
    from webinars.services.meetings import room_ensure_for_meeting

    room_ensure_for_meeting(page=instance)


def install_schedules_after_migrate(sender, using, **kwargs):
    """Install the django-q2 Schedules on every ``migrate`` (idempotent)."""
    from webinars.schedules import install_schedules

    install_schedules(using=using)


post_migrate.connect(
    install_schedules_after_migrate,
    sender=_apps.get_app_config("webinars"),
    dispatch_uid="webinars.install_schedules",
)


@receiver(post_delete, sender=MeetingPage, dispatch_uid="webinars.meeting_page_deleted")
def meeting_page_deleted(sender, instance, **kwargs):
    """A deleted meeting's room closes (as cancelled) instead of waiting for the scheduler."""
    if not instance.room_id:
        return
    from webinars.choices import ClosedReason
    from webinars.models import Room
    from webinars.services.rooms import room_close

    room = Room.objects.filter(pk=instance.room_id).first()
    if room is not None:
        room_close(room=room, reason=ClosedReason.CANCELLED)


# --- Public page caches (docs/public-pages.md): editors' changes show at once --------------


@receiver(page_published, dispatch_uid="webinars.public_page_published")
@receiver(page_unpublished, dispatch_uid="webinars.public_page_unpublished")
@receiver(post_page_move, dispatch_uid="webinars.public_page_moved")
@receiver(post_delete, sender=OpenLessonsPage, dispatch_uid="webinars.open_lessons_page_deleted")
@receiver(post_delete, sender=MeetingIndexPage, dispatch_uid="webinars.meeting_index_deleted")
@receiver(post_delete, sender=MeetingPage, dispatch_uid="webinars.meeting_page_uncached")
def public_page_changed(sender, instance, **kwargs):
    """Drop what the public pages cached of the page (``sender`` is its specific class).
    Registered after the receivers above, so a meeting's room is in step with its page
    before its join page is read again."""
    if not isinstance(sender, type):
        return
    if issubclass(sender, OpenLessonsPage):
        caching.open_lessons_page_changed()
    if issubclass(sender, (OpenLessonsPage, MeetingIndexPage)):
        caching.site_pages_changed()
    room_id = getattr(instance, "room_id", None) if issubclass(sender, MeetingPage) else None
    if room_id:
        slug = Room.objects.filter(pk=room_id).values_list("public_slug", flat=True).first()
        caching.join_page_changed(slug=slug or "")


# --- Lesson revisions and news (docs/calendars.md, docs/notices.md) -------------------------

SCHEDULE_FIELDS = ("scheduled_start", "scheduled_end", "is_cancelled")


@receiver(pre_save, sender=Lesson, dispatch_uid="webinars.lesson_sequence_follows")
def lesson_sequence_follows(sender, instance: Lesson, raw: bool = False, **kwargs):
    """A new start, end or cancellation is a new revision: ``sequence`` goes up by one, so
    calendar apps replace the event and people hear of the change once per revision."""
    if raw or instance._state.adding:
        return
    stored = Lesson.objects.filter(pk=instance.pk).values(*SCHEDULE_FIELDS, "sequence").first()
    if stored is None:
        return
    instance._stored_is_cancelled = stored["is_cancelled"]
    instance.sequence = stored["sequence"]
    saved = kwargs.get("update_fields")
    checked = [name for name in SCHEDULE_FIELDS if saved is None or name in saved]
    if any(getattr(instance, name) != stored[name] for name in checked):
        instance.sequence += 1
        instance._sequence_moved = True


@receiver(post_save, sender=Lesson, dispatch_uid="webinars.lesson_sequence_saved")
def lesson_sequence_saved(sender, instance: Lesson, raw: bool = False, **kwargs):
    """A save limited to some fields (``update_fields``) still stores the new revision."""
    moved = instance.__dict__.pop("_sequence_moved", False)
    update_fields = kwargs.get("update_fields")
    if raw or not moved or update_fields is None or "sequence" in update_fields:
        return
    Lesson.objects.filter(pk=instance.pk).update(sequence=instance.sequence)


# Subscribers to the domain events: sessions end at a room's close; notices (docs/notices.md).
from webinars.services import notices as _notice_subscribers  # noqa: E402, F401
from webinars.services import register as _register_subscribers  # noqa: E402, F401
