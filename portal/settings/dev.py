"""Local development: DEBUG on, SQLite, recordings served by Django, mails to the console."""

from .base import *  # noqa: F403
from .base import env_bool, env_list, env_str

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
SERVE_RECORDINGS_VIA_DJANGO = env_bool("SERVE_RECORDINGS_VIA_DJANGO", True)
RECORDING_WEBHOOK_SECRET = env_str("RECORDING_WEBHOOK_SECRET", "dev-webhook-secret")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
