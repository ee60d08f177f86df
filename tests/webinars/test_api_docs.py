"""The API docs (Swagger UI at /api/docs/, Redoc at /api/redoc/) work without the internet.

Both pages load their scripts, styles and icon from the portal's own static files (the pinned
drf-spectacular-sidecar), never from a CDN; the files are really served (WhiteNoise with the
staticfiles finders, as `runserver` or a deployment after collectstatic would).
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, override_settings

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def assets(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/api/docs/",
            {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"},
        ),
        ("/api/redoc/", {"redoc.standalone.js"}),
    ],
)
def test_the_docs_pages_use_only_the_portals_own_static_files(path, expected):
    with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        client = Client()  # its middleware (WhiteNoise) is built with the settings above
        page = client.get(path)
        assert page.status_code == 200
        html = page.content.decode()
        urls = assets(html)
        assert expected <= {url.rsplit("/", 1)[-1] for url in urls}
        assert all(url.startswith(settings.STATIC_URL) for url in urls), urls
        assert "https://" not in html and "http://" not in html and "//fonts." not in html
        assert "/api/schema/" in html  # the schema comes from the portal too
        for url in urls:
            served = client.get(url)
            assert served.status_code == 200, url
            body = b"".join(served.streaming_content) if served.streaming else served.content
            shipped = finders.find(url.removeprefix(settings.STATIC_URL))
            assert body == Path(shipped).read_bytes(), url
