"""Editorial Wagtail pages: the open-lessons feed and public meetings (docs/public-pages.md)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page
from wagtail.search import index


class OpenLessonsPage(Page):
    """The school's public feed of open lessons: live now, upcoming, recent recordings."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    # /api/v2/pages/: the lessons live now and coming up (each with its times, hosts, cover and
    # public join page) and the recent public recordings; serialized by webinars.api.wagtail_api.
    api_fields = [APIField("intro"), APIField("live"), APIField("upcoming"), APIField("recordings")]

    parent_page_types = ["home.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = _("open lessons page")

    def get_context(self, request, *args, **kwargs):
        """Live now / next 48 h / recent recordings, narrowed by the GET filter form.

        A constant handful of queries whatever the timetable's size (see the selector). The
        lists are the same for every visitor, so the template caches them, and the rendered
        filter form, for OPEN_LESSONS_CACHE_SECONDS (keys from ``caching``); ``listing`` is
        lazy and the subjects are cached as long, so a cached page costs no query of ours.
        """
        context = super().get_context(request, *args, **kwargs)
        # Imported here: models.py imports this module, and the public layer imports models
        # (a cycle at import time only).
        from webinars.public import caching
        from webinars.public.forms import LessonFilterForm
        from webinars.selectors.open_lessons import open_lessons_listing, subjects_for_filters

        subjects = caching.filter_subjects(load=subjects_for_filters)
        form = LessonFilterForm(request.GET or None, subjects=subjects)
        form.is_valid()  # an invalid field is shown and ignored; the valid one still filters
        cleaned = getattr(form, "cleaned_data", {})
        subject, day = cleaned.get("subject"), cleaned.get("day")
        subject_id = subject.pk if subject else None
        context.update(
            filter_form=form,
            listing=SimpleLazyObject(
                lambda: open_lessons_listing(subject_id=subject_id, day=day, subjects=subjects)
            ),
            filtered=bool(subject or day),
            **caching.open_lessons_fragments(request=request, subject_id=subject_id, day=day),
        )
        return context


class MeetingIndexPage(Page):
    """Groups the public meetings (parent meetings, assemblies)."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["webinars.MeetingPage"]
    max_count = 1

    class Meta:
        verbose_name = _("meeting index page")


class MeetingPage(Page):
    """A public meeting; publishing it creates or updates its MEETING room."""

    intro = models.CharField(_("introduction"), max_length=500, blank=True)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cover image"),
    )
    body = StreamField(
        [
            ("heading", blocks.CharBlock(form_classname="title")),
            ("paragraph", blocks.RichTextBlock()),
            ("image", ImageBlock()),
        ],
        blank=True,
        verbose_name=_("body"),
    )
    scheduled_start = models.DateTimeField(_("starts at"))
    scheduled_end = models.DateTimeField(_("ends at"))
    is_open = models.BooleanField(
        _("open to anyone with the link"),
        default=True,
        help_text=_("Unticked: only signed-in school staff may join."),
    )
    hosts = ParentalManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="hosted_meetings",
        verbose_name=_("hosts"),
    )
    room = models.OneToOneField(
        "webinars.Room",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_page",
        verbose_name=_("room"),
        editable=False,
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("cover_image"),
        MultiFieldPanel(
            [FieldPanel("scheduled_start"), FieldPanel("scheduled_end"), FieldPanel("is_open")],
            heading=_("When and who"),
        ),
        FieldPanel("hosts"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    # /api/v2/pages/: hosts (names), cover (a rendition), join_url (the public join page) and
    # recordings (public, playable) are serialized by webinars.api.wagtail_api.
    api_fields = [
        APIField(name)
        for name in (
            "intro",
            "scheduled_start",
            "scheduled_end",
            "is_open",
            "hosts",
            "cover",
            "join_url",
            "recordings",
            "body",
        )
    ]

    parent_page_types = ["webinars.MeetingIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("meeting page")

    def clean(self) -> None:
        super().clean()
        if (
            self.scheduled_start
            and self.scheduled_end
            and self.scheduled_end <= self.scheduled_start
        ):
            raise ValidationError({"scheduled_end": _("The end must be after the start.")})

    def get_context(self, request, *args, **kwargs):
        """The page's content plus the same join block as ``/join/<slug>/``."""
        context = super().get_context(request, *args, **kwargs)
        room = self.room if self.room_id else None
        if room is not None and room.is_open:
            from webinars.public.join_block import join_block_context  # see OpenLessonsPage

            context.update(join_block_context(request=request, room=room))
        context["meeting_room"] = room
        return context
