"""Fixtures of the public pages' tests: the site's pages, signed Jitsi joins."""

import pytest
from wagtail.models import Page

from webinars.pages import OpenLessonsPage


@pytest.fixture(autouse=True)
def _jitsi_tokens(settings):
    """Joins carry a JWT, so tests can read the role a visitor got."""
    settings.JITSI_JWT_ENABLED = True


@pytest.fixture
def home():
    return Page.objects.get(depth=2, slug="home").specific


@pytest.fixture
def feed_page(home):
    return home.add_child(instance=OpenLessonsPage(title="Open lessons", slug="open-lessons"))
