"""Writes on meetings: a MeetingPage's room, meetings made through the API, deletion guard.

A meeting is a published Wagtail page that owns one MEETING room (see docs/lifecycle.md);
the room opens and closes like any other, through ``webinars.services.rooms``.
"""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from webinars.choices import RecordingStatus, RoomStatus, RoomType
from webinars.models import Recording, Room, random_token
from webinars.services.rooms import room_build

logger = logging.getLogger("webinars.rooms")


def room_ensure_for_meeting(*, page) -> Room:
    """The MeetingPage's MEETING room, created on first publish and kept in step afterwards.

    Title, openness and schedule follow the page while the room is not CLOSED; a closed
    meeting's room keeps its history. The page row is updated with ``.update()`` so that the
    call is safe from inside Wagtail's ``page_published`` signal (no new revision, no recursion).
    """
    from webinars.pages import MeetingPage

    with transaction.atomic():
        locked = MeetingPage.objects.select_for_update().only("pk", "room").get(pk=page.pk)
        room_id = page.room_id or locked.room_id
        room = Room.objects.filter(pk=room_id).first() if room_id else None
        if room is None:
            room = room_build(
                type=RoomType.MEETING,
                title=page.title[:200],
                is_open=page.is_open,
                scheduled_start=page.scheduled_start,
                scheduled_end=page.scheduled_end,
            )
            room.full_clean()
            room.save()
            logger.info("room created room=%s meeting_page=%s", room.pk, page.pk)
        elif room.status != RoomStatus.CLOSED:
            changed = {
                "title": page.title[:200],
                "is_open": page.is_open,
                "scheduled_start": page.scheduled_start,
                "scheduled_end": page.scheduled_end,
            }
            changed = {k: v for k, v in changed.items() if getattr(room, k) != v}
            if changed:
                for name, value in changed.items():
                    setattr(room, name, value)
                room.save(update_fields=[*changed, "updated_at"])
                logger.info(
                    "room updated room=%s meeting_page=%s fields=%s",
                    room.pk,
                    page.pk,
                    ",".join(sorted(changed)),
                )
        if locked.room_id != room.pk:
            MeetingPage.objects.filter(pk=page.pk).update(room=room)
        page.room = room
    return room


def _meeting_index():
    """The MeetingIndexPage, made under the site's root HomePage the first time it is needed."""
    from wagtail.models import Site

    from webinars.pages import MeetingIndexPage

    index = MeetingIndexPage.objects.first()
    if index is not None:
        return index
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    if site is None:
        raise ValidationError(_("The site has no root page to put meetings under."))
    index = MeetingIndexPage(title=_("Meetings"), slug="meetings")
    site.root_page.specific.add_child(instance=index)
    index.save_revision().publish()
    logger.info("meeting index created page=%s", index.pk)
    return index


def meeting_create(
    *,
    host,
    title: str,
    scheduled_start: datetime,
    scheduled_end: datetime,
    is_open: bool = True,
) -> Room:
    """A published MeetingPage hosted by ``host``, and its room (made by the publish signal).

    Going through a real page keeps API-made meetings editable in the Wagtail admin like any
    other, with a revision history and the same public page.
    """
    from webinars.pages import MeetingPage

    base = slugify(title, allow_unicode=True)[:40] or "meeting"
    with transaction.atomic():
        index = _meeting_index()
        page = MeetingPage(
            title=title,
            slug=f"{base}-{random_token(4)}",
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end,
            is_open=is_open,
            owner=host,
        )
        page.hosts = [host]
        index.add_child(instance=page)
        # The API already decided the caller may create meetings (staff), not Wagtail roles.
        page.save_revision(user=host).publish(user=host, skip_permission_checks=True)
        room = room_ensure_for_meeting(page=page)
    logger.info("meeting created page=%s room=%s host=%s", page.pk, room.pk, host.pk)
    return room


def meeting_page_delete_guard(*, page) -> None:
    """Refuse (ValidationError) to delete a MeetingPage whose room has a READY recording.

    For Wagtail's ``before_delete_page`` hook: the room's recordings are PROTECTed, and a
    finished recording of a public meeting must not vanish with an editor's tidy-up.
    """
    room_id = getattr(page, "room_id", None)
    if room_id and Recording.objects.filter(room_id=room_id, status=RecordingStatus.READY).exists():
        raise ValidationError(
            _(
                "“%(page)s” cannot be deleted: its room has a finished recording. "
                "Unpublish the page instead, or delete the recording first."
            )
            % {"page": page.title}
        )
