from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The site root: a welcome text and what is on (``home_tags`` asks the selectors)."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["webinars.OpenLessonsPage", "webinars.MeetingIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")
