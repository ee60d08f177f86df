"""Wagtail's API v2 serving the published (public) pages, images and documents at /api/v2/.

The open-lessons page and meeting pages name what they expose in their ``api_fields``
(``webinars.pages``); the serializers of the computed fields live here, because pages import
no API code. Every absolute link — the join page, a recording, a cover — is made on the root
URL of the page's Wagtail Site (Settings → Sites: hostname and port), the same one
``meta.html_url`` uses, so a school that sets its Site right never gets "localhost" links.
"""

from django.db.models import Prefetch, prefetch_related_objects
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images import get_image_model
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.images.models import SourceImageIOError

from webinars.choices import RecordingStatus
from webinars.models import Recording, Room
from webinars.pages import MeetingPage, OpenLessonsPage
from webinars.recordings import recording_playback_url
from webinars.selectors.open_lessons import open_lessons_listing
from webinars.selectors.public_rooms import room_people
from webinars.selectors.viewer import room_facts_for

COVER_SPEC = "fill-1200x630"  # the usual size of a link preview


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


class PageField(serializers.Field):
    """A read-only value computed from the whole page, with links on the page's Site."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance

    def absolute(self, page, path: str | None) -> str | None:
        if not path or not path.startswith("/"):
            return path
        parts = page.get_url_parts(request=self.context.get("request"))
        root = parts[1] if parts else None
        return f"{root.rstrip('/')}{path}" if root else path

    def cover(self, page, image) -> dict | None:
        if image is None:
            return None
        try:
            rendition = image.get_rendition(COVER_SPEC)
        except SourceImageIOError:
            return None
        return {
            "url": self.absolute(page, rendition.url),
            "width": rendition.width,
            "height": rendition.height,
            "alt": rendition.alt,
        }

    def join_url(self, page, room: Room) -> str:
        return self.absolute(page, f"/join/{room.public_slug}/")

    def recording(self, page, recording: Recording) -> dict:
        return {
            "id": recording.pk,
            "started_at": serializers.DateTimeField().to_representation(recording.started_at)
            if recording.started_at
            else None,
            "duration_secs": recording.duration_secs,
            "url": self.absolute(page, recording_playback_url(recording=recording, public=True)),
        }


# --- Meeting pages ---------------------------------------------------------------------------


def _public_room(page: MeetingPage) -> Room | None:
    """The meeting's room when anyone may join it with the link (an open page and room)."""
    room = page.room if page.room_id else None
    return room if room is not None and room.is_open and page.is_open else None


class MeetingHostsField(PageField):
    def to_representation(self, page) -> list[str]:
        return [_name(user) for user in page.hosts.order_by("last_name", "username")]


class MeetingCoverField(PageField):
    def to_representation(self, page) -> dict | None:
        return self.cover(page, page.cover_image)


class MeetingJoinUrlField(PageField):
    def to_representation(self, page) -> str | None:
        room = _public_room(page)
        return self.join_url(page, room) if room is not None else None


class MeetingRecordingsField(PageField):
    """The READY recordings of an open meeting, oldest first, with playable URLs."""

    def to_representation(self, page) -> list[dict]:
        room = page.room if page.room_id else None
        if room is None or not room_facts_for(room=room).recordings_are_public:
            return []
        ready = Recording.objects.filter(room=room, status=RecordingStatus.READY).exclude(file="")
        return [self.recording(page, recording) for recording in ready.order_by("created_at")]


# --- The open-lessons page --------------------------------------------------------------------


class OpenLessonsField(PageField):
    """``live`` or ``upcoming``: the open lessons the page lists, as the page shows them."""

    def __init__(self, part: str, **kwargs):
        self.part = part
        super().__init__(**kwargs)

    def listing(self):
        """One read of the listing (and of its people and covers) for all of the page's fields."""
        if "open_lessons_listing" not in self.context:
            listing = open_lessons_listing()
            lessons = [room.lesson for room in listing.live + listing.upcoming]
            prefetch_related_objects(
                lessons,
                "co_teachers",
                Prefetch(
                    "cover_image",
                    queryset=get_image_model().objects.prefetch_renditions(COVER_SPEC),
                ),
            )
            self.context["open_lessons_listing"] = listing
        return self.context["open_lessons_listing"]

    def to_representation(self, page) -> list[dict]:
        rooms = getattr(self.listing(), self.part)
        time = serializers.DateTimeField()
        return [
            {
                "lesson_id": room.lesson_id,
                "title": room.lesson.title,
                "subject": room.lesson.subject.name,
                "scheduled_start": time.to_representation(room.scheduled_start),
                "scheduled_end": time.to_representation(room.scheduled_end),
                "status": room.status,
                "is_open": room.is_open,
                "hosts": [_name(room.lesson.teacher)]
                + [_name(user) for user in room.lesson.co_teachers.all()],
                "cover": self.cover(page, room.lesson.cover_image),
                "join_url": self.join_url(page, room),
            }
            for room in rooms
        ]


class OpenLessonsRecordingsField(OpenLessonsField):
    """The page's recent recordings: each lesson's latest READY recording."""

    def __init__(self, **kwargs):
        super().__init__("recordings", **kwargs)

    def to_representation(self, page) -> list[dict]:
        rooms = {room.pk: room for room in self.listing().recordings}
        latest: dict[int, Recording] = {}
        ready = Recording.objects.filter(room_id__in=rooms, status=RecordingStatus.READY)
        for recording in ready.exclude(file="").order_by("created_at", "id"):
            recording.room = rooms[recording.room_id]
            latest[recording.room_id] = recording
        return [
            {
                "lesson_id": room.lesson_id,
                "title": room.lesson.title,
                "subject": room.lesson.subject.name,
                "hosts": [_name(person) for person in room_people(room=room)],
                "recording": self.recording(page, latest[room.pk]),
            }
            for room in rooms.values()
            if room.pk in latest
        ]


PAGE_FIELD_SERIALIZERS = {
    MeetingPage: {
        "hosts": MeetingHostsField(),
        "cover": MeetingCoverField(),
        "join_url": MeetingJoinUrlField(),
        "recordings": MeetingRecordingsField(),
    },
    OpenLessonsPage: {
        "live": OpenLessonsField("live"),
        "upcoming": OpenLessonsField("upcoming"),
        "recordings": OpenLessonsRecordingsField(),
    },
}


class PublicPagesAPIViewSet(PagesAPIViewSet):
    permission_classes = [AllowAny]

    @classmethod
    def get_field_serializer_overrides(cls, model):
        return {
            **super().get_field_serializer_overrides(model),
            **PAGE_FIELD_SERIALIZERS.get(model, {}),
        }


class PublicImagesAPIViewSet(ImagesAPIViewSet):
    permission_classes = [AllowAny]


class PublicDocumentsAPIViewSet(DocumentsAPIViewSet):
    permission_classes = [AllowAny]


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PublicPagesAPIViewSet)
api_router.register_endpoint("images", PublicImagesAPIViewSet)
api_router.register_endpoint("documents", PublicDocumentsAPIViewSet)
