"""Settings shared by every environment: secure by default, configured by environment variables.

Only this package reads ``os.environ``; the rest of the code reads ``django.conf.settings``.
Every variable read here is listed in ``.env.example``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core ---------------------------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal",
    "home",
    "webinars",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files (offline)
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wagtail.contrib.settings.context_processors.settings",
                "webinars.context_processors.school",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Server-side binding, and a statement a connection runs a fifth time is prepared: PostgreSQL
    # then reuses its plan. The join's facts query takes four times longer to plan than to run,
    # so this lifts join throughput by about a third. Turn it off (0) behind a pooler that
    # cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The run command's web server and scheduler write to one SQLite file. WAL lets readers go on
    # while one writes; IMMEDIATE takes the write lock when a transaction begins, so two writers
    # queue (up to the busy timeout) instead of one failing with "database is locked" when both
    # upgrade a read to a write. docs/operations.md says when to move to PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
    }
# A connection the database dropped (restart, failover, an idle timeout) is noticed at the
# next request and replaced, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/my/"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Recordings (docs/recordings.md) --------------------------------------------------------------
RECORDING_STORAGE = env_str("RECORDING_STORAGE", "LOCAL").upper()
RECORDING_LOCAL_DIR = Path(env_str("RECORDING_LOCAL_DIR", str(BASE_DIR / "recordings")))
RECORDING_MEDIA_ROOT = Path(env_str("RECORDING_MEDIA_ROOT", str(MEDIA_ROOT / "recordings")))
SERVE_RECORDINGS_VIA_DJANGO = env_bool("SERVE_RECORDINGS_VIA_DJANGO", False)
RECORDING_WEBHOOK_SECRET = env_str("RECORDING_WEBHOOK_SECRET")
RECORDING_DOWNLOAD_HOSTS = env_list("RECORDING_DOWNLOAD_HOSTS", "8x8.vc,.jitsi.net,.8x8.com")
RECORDING_MAX_BYTES = env_int("RECORDING_MAX_BYTES", 6 * 1024 * 1024 * 1024)
RECORDING_DOWNLOAD_TIMEOUT = env_int("RECORDING_DOWNLOAD_TIMEOUT", 60)
RECORDING_DOWNLOAD_ATTEMPTS = env_int("RECORDING_DOWNLOAD_ATTEMPTS", 5)
RECORDING_SIGNED_URL_TTL = env_int("RECORDING_SIGNED_URL_TTL", 600)

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(RECORDING_MEDIA_ROOT), "base_url": "/media/recordings/"},
    },
}
if AWS_STORAGE_BUCKET_NAME:
    RECORDING_STORAGE = "S3"
    STORAGES["recordings"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "region_name": AWS_S3_REGION_NAME,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": RECORDING_SIGNED_URL_TTL,
            "file_overwrite": False,
            "default_acl": None,
        },
    }

# --- Jitsi (docs/tokens.md) -----------------------------------------------------------------------
JITSI_DOMAIN = env_str("JITSI_DOMAIN", "jitsi.school.edu")
JITSI_ENV = env_str("JITSI_ENV", "SELF_HOSTED").upper()
JITSI_JWT_ENABLED = env_bool("JITSI_JWT_ENABLED", False)
JITSI_JWT_SECRET = env_str("JITSI_JWT_SECRET")
JITSI_JWT_APP_ID = env_str("JITSI_JWT_APP_ID", "cedar")
JITSI_JWT_AUD = env_str("JITSI_JWT_AUD", "jitsi")
JITSI_JWT_SUB = env_str("JITSI_JWT_SUB", JITSI_DOMAIN)
JITSI_JWT_TTL_MIN = env_int("JITSI_JWT_TTL_MIN", 120)
JAAS_APP_ID = env_str("JAAS_APP_ID")
JAAS_KID = env_str("JAAS_KID")
JAAS_PRIVATE_KEY = env_str("JAAS_PRIVATE_KEY")
JAAS_PRIVATE_KEY_PATH = env_str("JAAS_PRIVATE_KEY_PATH")
if not JAAS_PRIVATE_KEY and JAAS_PRIVATE_KEY_PATH:
    JAAS_PRIVATE_KEY = Path(JAAS_PRIVATE_KEY_PATH).read_text()
JAAS_WEBHOOK_SECRET = env_str("JAAS_WEBHOOK_SECRET")
JAAS_WEBHOOK_TOLERANCE_SEC = env_int("JAAS_WEBHOOK_TOLERANCE_SEC", 300)

# --- Room lifecycle (docs/lifecycle.md) -----------------------------------------------------------
ROOM_OPEN_LEAD_MIN = env_int("ROOM_OPEN_LEAD_MIN", 15)
ROOM_CLOSE_GRACE_MIN = env_int("ROOM_CLOSE_GRACE_MIN", 10)
OPEN_LESSONS_HORIZON_HOURS = env_int("OPEN_LESSONS_HORIZON_HOURS", 48)
MAINTAIN_BATCH_SIZE = env_int("MAINTAIN_BATCH_SIZE", 2000)

# --- Background jobs (django-q2): two clusters, one broker, a queue each ----------------------
# docs/operations.md describes both processes:
# - the default ("work") cluster, ``manage.py qcluster``: recording downloads and moves, notices
#   and hourly checks. One task may be a multi-GB download (RECORDING_MAX_BYTES), so its timeout
#   is long;
# - the "lifecycle" cluster, ``Q_CLUSTER_NAME=lifecycle manage.py qcluster``: only the
#   every-minute room tick (webinars/schedules.py routes it), so rooms open and close on time
#   however long the downloads take. A tick takes well under a second; its timeout ends a stuck
#   one before the next is due, and a failed tick is not retried (the next one redoes it).
# Each cluster fetches no more tasks than it can start, so a stop or a crash leaves no backlog
# locked for ``retry`` seconds. ``qcluster`` stops within Q_STOP_GRACE seconds of SIGTERM
# (portal/management/commands/qcluster.py).
REDIS_URL = env_str("REDIS_URL")
Q_WORKERS = env_int("Q_WORKERS", 2)
Q_TIMEOUT = env_int("Q_TIMEOUT", 7200)
Q_LIFECYCLE_TIMEOUT = env_int("Q_LIFECYCLE_TIMEOUT", 50)
Q_STOP_GRACE = env_int("Q_STOP_GRACE", 15)
Q_CLUSTER = {
    "name": "portal",
    "workers": Q_WORKERS,
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 60,  # must exceed timeout
    "max_attempts": 1,
    "queue_limit": Q_WORKERS,
    "bulk": 1,
    "poll": 1,
    "catch_up": False,
    "label": "Background tasks",
    "ALT_CLUSTERS": {
        "lifecycle": {
            "workers": 1,
            "timeout": Q_LIFECYCLE_TIMEOUT,
            "retry": Q_LIFECYCLE_TIMEOUT + 10,
            "queue_limit": 1,
            "ack_failures": True,
        },
    },
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webinars.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["webinars.api.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "webinars.api.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "webinars.api.errors.json_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "public_join_ip": env_str("THROTTLE_PUBLIC_JOIN_IP", "20/min"),
        "public_join_slug": env_str("THROTTLE_PUBLIC_JOIN_SLUG", "600/min"),
        "anon": env_str("THROTTLE_ANON", "120/min"),
        # sign-ins for API tokens: per username (stops guessing), per address (a school's
        # server signs in many users at once): docs/tokens.md
        "auth_token_user": env_str("THROTTLE_LOGIN_USER", "10/min"),
        "auth_token_ip": env_str("THROTTLE_LOGIN_IP", "600/min"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
# The largest JSON body an API call may send (webhooks, Jibri's finalize call, meetings): real
# ones are a few KB, so anything near this is a mistake or an attack (413).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Cedar webinar portal API",
    "DESCRIPTION": "Rooms, joins, recordings and feeds of the school's Jitsi webinars.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["webinars.api.schema.only_our_api"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},  # no online validator
    # Several "status" fields, each its own set of words: name each enum after its choices.
    "ENUM_NAME_OVERRIDES": {
        "RoomStatusEnum": "webinars.choices.RoomStatus",
        "RecordingStatusEnum": "webinars.choices.RecordingStatus",
        "RegisterStatusEnum": "webinars.choices.RegisterStatus",
        "ClosedReasonEnum": "webinars.choices.ClosedReason",
        "RoomTypeEnum": "webinars.choices.RoomType",
        "JoinRoleEnum": "webinars.choices.JoinRole",
        "AttendanceSourceEnum": "webinars.choices.AttendanceSource",
    },
}

# --- Caches ---------------------------------------------------------------------------------
# One cache for every process of the site (each gunicorn worker, both clusters), so a throttle
# counts a guest once and an editor's change clears a page everywhere: Redis when REDIS_URL is
# set, else a table in the site's database (``migrate`` creates it: portal/apps.py).
REDIS_CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
CACHES = {
    "default": (
        REDIS_CACHE
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    ),
    # django-q2 saves each cluster's status twice a second; without Redis it stays in memory
    # rather than writing the database that often (``qinfo`` then sees no cluster).
    "cluster_status": (
        REDIS_CACHE if REDIS_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Values that cannot go stale, because their key carries what they depend on (the lessons
    # list's counts under the lessons' stamp, webinars.selectors.lesson_counts): each process
    # keeps its own, sparing a round trip to the shared cache.
    "per_process": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "portal-per-process",
        "OPTIONS": {"MAX_ENTRIES": 2_000},
    },
}
Q_CLUSTER["cache"] = "cluster_status"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webinars@school.edu")

# --- Wagtail --------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = env_str("WAGTAIL_SITE_NAME", "Cedar school webinars")
# Where people reach the portal: the links in emails and exports (the run command sets it to
# the address it prints). The admin's own links follow it unless WAGTAILADMIN_BASE_URL is set.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", PORTAL_BASE_URL)
# No calls out from the admin: no release check (releases.wagtail.org), no Gravatar avatars.
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_USER_LOGIN_FORM = "portal.forms.SignInForm"  # the password label in every language
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Logging: one line per action, never secrets --------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "loggers": {
        "webinars": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "portal": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "django-q": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    },
}

# A process may log to its own file instead (scripts/run.sh gives each cluster one): appended,
# and rotated at 5 MB with 3 old files kept, so a restart keeps the evidence of what went before.
LOG_FILE = env_str("LOG_FILE")
if LOG_FILE:
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": LOG_FILE,
        "maxBytes": 5 * 1024 * 1024,
        "backupCount": 3,
        "formatter": "line",
    }
    for _logger in LOGGING["loggers"].values():
        _logger["handlers"] = ["file"]

# --- Public pages (issue 6) ----------------------------------------------------------------
# The open-lessons feed (API JSON and the page's lists) is the same for every visitor: it is
# cached this many seconds per set of filters/parameters and language (0 turns it off).
OPEN_LESSONS_CACHE_SECONDS = env_int("OPEN_LESSONS_CACHE_SECONDS", 30)
# A join page's room, people and recording may be reused this many seconds per link on an
# anonymous GET (0: read every time). A POST (the join itself) always reads the room afresh, so
# a status shows at most this late on the page and never lets anyone in late.
JOIN_PAGE_CACHE_SECONDS = env_int("JOIN_PAGE_CACHE_SECONDS", 10)

# --- Register, notices, calendars (docs/register.md, docs/notices.md, docs/calendars.md) ---
# Links in emails and calendar feeds start with this (the address people open the portal at).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Prosody's event_sync component sends "Authorization: Bearer <this>"; empty refuses every post.
PROSODY_EVENT_SECRET = env_str("PROSODY_EVENT_SECRET")
REGISTER_LATE_MIN = env_int("REGISTER_LATE_MIN", 5)
REGISTER_LEFT_EARLY_MIN = env_int("REGISTER_LEFT_EARLY_MIN", 10)
REGISTER_EMAIL_TEACHER = env_bool("REGISTER_EMAIL_TEACHER", True)
NOTIFY_REMINDER_MIN = env_int("NOTIFY_REMINDER_MIN", 30)
