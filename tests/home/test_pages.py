"""The page tree rules and that every page type renders."""

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase

from home.models import HomePage
from webinars.management.commands.seed_demo import ensure_site_sections
from webinars.pages import MeetingIndexPage, MeetingPage, OpenLessonsPage


class PageTreeTests(WagtailPageTestCase):
    def test_home_is_the_root_of_the_school_site(self):
        self.assertCanCreateAt(Page, HomePage)
        self.assertAllowedSubpageTypes(HomePage, {OpenLessonsPage, MeetingIndexPage})

    def test_feed_and_meeting_index_live_under_home_only(self):
        self.assertAllowedParentPageTypes(OpenLessonsPage, {HomePage})
        self.assertAllowedParentPageTypes(MeetingIndexPage, {HomePage})
        self.assertAllowedSubpageTypes(OpenLessonsPage, set())
        self.assertCanNotCreateAt(HomePage, MeetingPage)

    def test_meetings_live_under_the_meeting_index(self):
        self.assertAllowedParentPageTypes(MeetingPage, {MeetingIndexPage})
        self.assertAllowedSubpageTypes(MeetingPage, set())

    def test_singletons(self):
        assert HomePage.max_count == OpenLessonsPage.max_count == MeetingIndexPage.max_count == 1

    def test_every_page_type_renders(self):
        feed, meetings = ensure_site_sections()
        start = timezone.now() + timedelta(days=1)
        meeting = meetings.add_child(
            instance=MeetingPage(
                title="Assembly",
                slug="assembly",
                scheduled_start=start,
                scheduled_end=start + timedelta(hours=1),
            )
        )
        for page in (HomePage.objects.get(), feed, meetings, meeting):
            self.assertPageIsRenderable(page)


@pytest.mark.django_db
def test_site_root_is_the_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Cedar school webinars" in response.content.decode()
