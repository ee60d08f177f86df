"""Recording files served by Django when SERVE_RECORDINGS_VIA_DJANGO=1 (development)."""

recording_media_urlpatterns: list = []
