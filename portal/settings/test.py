"""Fast, deterministic settings for the test suite (SQLite unless DATABASE_URL is set)."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "cluster_status": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "per_process": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

_tmp = Path(tempfile.mkdtemp(prefix="portal-test-"))
MEDIA_ROOT = _tmp / "media"
RECORDING_LOCAL_DIR = _tmp / "jibri"
RECORDING_MEDIA_ROOT = _tmp / "media" / "recordings"
RECORDING_WEBHOOK_SECRET = "test-recording-secret"  # noqa: S105
JAAS_WEBHOOK_SECRET = "test-jaas-secret"  # noqa: S105
JITSI_JWT_SECRET = "test-jitsi-secret-at-least-32-bytes-long"  # noqa: S105
SERVE_RECORDINGS_VIA_DJANGO = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(RECORDING_MEDIA_ROOT), "base_url": "/media/recordings/"},
    },
}
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
PORTAL_BASE_URL = WAGTAILADMIN_BASE_URL = "http://testserver"
LOGGING["loggers"]["webinars"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
JOIN_PAGE_CACHE_SECONDS = 0  # tests that exercise the cached join page turn it on
