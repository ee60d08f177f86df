"""Editorial Wagtail pages: the open-lessons feed and public meetings (docs/public-pages.md)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
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
