"""Cadenza settings: the embedded default (SQLite, local files, in-process tasks).

Every value comes from the environment through django-environ; this tree is the only place that
reads it. Setting ``DATABASE_URL``, ``CELERY_BROKER_URL`` or ``AWS_STORAGE_BUCKET_NAME`` switches
that concern to the production stack with no code change (see README.md).
"""

from datetime import timedelta
from pathlib import Path

import environ
from botocore.config import Config as BotoConfig

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
DEV_SECRET_KEY = "cadenza-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=DJANGO_ENV == "development")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Empty (the default): signed object URLs are relative ("/objects/…") and work on whatever host and
# port serves the site. Set it only when a proxy must put an absolute origin in front of them.
SITE_URL = env.str("CADENZA_SITE_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_filters",
    "corsheaders",
    "accounts",
    "generation",
    "recommendations",
]

MIDDLEWARE = [
    "config.api.middleware.ApiErrorsMiddleware",
    "config.api.middleware.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Database: SQLite file by default, PostgreSQL (psycopg 3) with DATABASE_URL
# ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cadenza.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent writers on the embedded default: WAL lets readers go on while one writes; every
    # transaction takes the write lock when it begins (IMMEDIATE), so two never deadlock upgrading
    # a read lock ("database is locked" at once); a writer waits up to the busy timeout instead.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=20000; PRAGMA synchronous=NORMAL;",
        }
    )

# ------------------------------------------------------------------------------
# Objects: a local folder by default, S3 (django-storages + boto3) with AWS_STORAGE_BUCKET_NAME
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# The embedded default serves static/ (the player) as it is, without collectstatic, DEBUG or not;
# production serves what collectstatic wrote into STATIC_ROOT (the image runs it).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("CADENZA_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
SIGNED_URL_TTL_SECONDS = env.int("CADENZA_SIGNED_URL_TTL", default=300)
if AWS_STORAGE_BUCKET_NAME:
    _object_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="us-east-1"),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "signature_version": "s3v4",
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="path"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": SIGNED_URL_TTL_SECONDS,
            "file_overwrite": True,
            # Fail fast on a dead or stalled endpoint; the job retries with backoff instead.
            "client_config": BotoConfig(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
            ),
        },
    }
else:
    _object_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": "/media/"},
    }
STORAGES = {
    "default": _object_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# ------------------------------------------------------------------------------
# Tasks: in-process by default, Celery workers with CELERY_BROKER_URL
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"  # never contacted: tasks run in-process
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues per stage: a GPU pool can consume `compose` alone (`celery -A config worker -Q compose`).
CELERY_TASK_ROUTES = {
    "generation.tasks.compose_job": {"queue": "compose"},
    "generation.tasks.render_job": {"queue": "render"},
    "generation.tasks.publish_job": {"queue": "publish"},
    "generation.tasks.reap_jobs": {"queue": "publish"},
    "generation.tasks.sweep_objects": {"queue": "publish"},
    "recommendations.tasks.*": {"queue": "recommend"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

# ------------------------------------------------------------------------------
# Cache (throttles): local memory by default, Redis with REDIS_URL
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cadenza"}
    )
}

# ------------------------------------------------------------------------------
# E-mail: printed to the console by default; EMAIL_URL (smtp+tls://user:pass@host:587) for real
# ------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cadenza <no-reply@cadenza.invalid>")
# A password-reset code works once, for this long (seconds).
PASSWORD_RESET_TIMEOUT = env.int("CADENZA_PASSWORD_RESET_SECONDS", default=3600)

# ------------------------------------------------------------------------------
# API
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.CadenzaAutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttles.AnonRateThrottle",
        "config.api.throttles.UserRateThrottle",
        "config.api.throttles.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
        "login": env.str("THROTTLE_LOGIN", default="10/min"),
        # per refresh token's listener (a carrier NAT puts many phones behind one address)
        "refresh": env.str("THROTTLE_REFRESH", default="30/min"),
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="10/hour"),  # per client address
        "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),  # per address
        "password_change": env.str("THROTTLE_PASSWORD_CHANGE", default="10/hour"),  # per listener
        "generation_poll": env.str("THROTTLE_GENERATION_POLL", default="120/min"),  # GET /generations/{id}
        "register": env.str("THROTTLE_REGISTER", default="20/hour"),  # per client address
        "register_email": env.str("THROTTLE_REGISTER_EMAIL", default="5/hour"),  # per e-mail address
        "events": env.str("THROTTLE_EVENTS", default="1200/min"),
        "generations": env.str("THROTTLE_GENERATIONS", default="60/min"),
        "reports": env.str("THROTTLE_REPORTS", default="30/hour"),
    },
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(  # JWT_ACCESS_SECONDS, when set, wins (drills use ~20 s)
        seconds=env.int("JWT_ACCESS_SECONDS", default=60 * env.int("JWT_ACCESS_MINUTES", default=15))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cadenza API",
    "DESCRIPTION": "Music composed for each listener: preferences, listening, generations, tracks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InstrumentFamilyEnum": "accounts.vocabulary.INSTRUMENT_FAMILIES",
        "StyleEnum": "accounts.vocabulary.STYLES",
        "MoodEnum": "accounts.vocabulary.MOODS",
        "KeyModeEnum": "accounts.vocabulary.KEY_MODES",
        "PreferredModeEnum": "accounts.models.Mode",
        "EventKindEnum": "recommendations.models.EventKind",
        "EntryKindEnum": "recommendations.api.serializers.ENTRY_KINDS",
        "TrackOutputStatusEnum": "generation.models.TrackStatus",  # the track list and the track page
    },
}

# The largest JSON body the API reads (a full events batch is ~100 kB); larger answers 413.
CADENZA_API_MAX_BODY_BYTES = env.int("CADENZA_API_MAX_BODY_BYTES", default=1024 * 1024)

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

# ------------------------------------------------------------------------------
# Cadenza
# ------------------------------------------------------------------------------
CADENZA_SOUNDFONT = env.str("CADENZA_SOUNDFONT", default="")
CADENZA_CHECKPOINT = Path(
    env.str("CADENZA_CHECKPOINT", default=str(BASE_DIR / "generation" / "checkpoints" / "cadenza-v2.pt"))
)
# Retired checkpoints, kept as <sha256>.pt so that verify_track can regenerate the tracks they made
CADENZA_CHECKPOINT_ARCHIVE = Path(env.str("CADENZA_CHECKPOINT_ARCHIVE", default=str(BASE_DIR / "var" / "checkpoints")))
# Ed25519 key that signs licence certificates (PEM, PKCS#8). Empty: a development key under var/.
CADENZA_LICENCE_SIGNING_KEY = env.str("CADENZA_LICENCE_SIGNING_KEY", default="")
CADENZA_DEV_LICENCE_KEY_PATH = VAR_DIR / "licence-signing-key.pem"
CADENZA_LICENSOR = env.str("CADENZA_LICENSOR", default="Cadenza")
# C2PA content credentials: certificate chain (PEM) and its private key. `make` generates a
# development chain under var/dev-certs/ when none is configured.
CADENZA_C2PA_CERT = Path(env.str("CADENZA_C2PA_CERT", default=str(VAR_DIR / "dev-certs" / "signer.pem")))
CADENZA_C2PA_KEY = Path(env.str("CADENZA_C2PA_KEY", default=str(VAR_DIR / "dev-certs" / "signer.key")))
# Without a chain, tracks are published without content credentials only if this says so, and
# every provenance record then says they were. True on the embedded default; production refuses to
# start without a chain unless it is set (config/settings/production.py).
CADENZA_PUBLISH_WITHOUT_C2PA = env.bool("CADENZA_PUBLISH_WITHOUT_C2PA", default=DJANGO_ENV != "production")
CADENZA_CODE_VERSION = env.str("CADENZA_CODE_VERSION", default="")
CADENZA_SWEEP_GRACE_SECONDS = env.int("CADENZA_SWEEP_GRACE_SECONDS", default=24 * 3600)
CADENZA_GENERATION_QUOTA_PER_DAY = env.int("CADENZA_GENERATION_QUOTA_PER_DAY", default=20)
CADENZA_JOB_MAX_ATTEMPTS = env.int("CADENZA_JOB_MAX_ATTEMPTS", default=5)
CADENZA_JOB_LEASE_SECONDS = env.int("CADENZA_JOB_LEASE_SECONDS", default=600)
CADENZA_RETRY_BASE_SECONDS = env.float("CADENZA_RETRY_BASE_SECONDS", default=2.0)
# The reaper re-sends a job whose task was handed to the broker only after this long (the broker
# redelivers unacknowledged tasks within its visibility timeout; a job waiting in a backlog is not lost).
CADENZA_JOB_LOST_AFTER_SECONDS = env.int(
    "CADENZA_JOB_LOST_AFTER_SECONDS", default=CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 300
)
# Sampling options passed to the composer (temperature, top_p, guidance, n_candidates …); every
# value used is recorded in the track's provenance, so a track regenerates whatever this says.
CADENZA_COMPOSE_OPTIONS = env.json("CADENZA_COMPOSE_OPTIONS", default={})

# Recommendations (issue 9): playlist size, no-repeat window, compose-ahead thresholds.
CADENZA_RECS_PLAYLIST_SIZE = env.int("CADENZA_RECS_PLAYLIST_SIZE", default=20)
CADENZA_RECS_REPEAT_WINDOW_HOURS = env.float("CADENZA_RECS_REPEAT_WINDOW_HOURS", default=6.0)
CADENZA_RECS_MIN_READY = env.int("CADENZA_RECS_MIN_READY", default=5)  # K unplayed good-fit tracks
CADENZA_RECS_GOOD_FIT = env.float("CADENZA_RECS_GOOD_FIT", default=0.0)  # posterior mean score θ·x
CADENZA_RECS_MAX_PENDING = env.int("CADENZA_RECS_MAX_PENDING", default=2)  # jobs in flight per listener
CADENZA_RECS_ACTIVE_MINUTES = env.int("CADENZA_RECS_ACTIVE_MINUTES", default=30)
# Compose ahead straight after an events batch (a task of its own). On the embedded default tasks
# run in-process, so this would compose inside the events request: there, compose-ahead runs from
# `manage.py refill_playlists`, POST /me/playlist/refresh and the demo instead.
CADENZA_RECS_COMPOSE_AHEAD_ON_EVENTS = env.bool(
    "CADENZA_RECS_COMPOSE_AHEAD_ON_EVENTS", default=not CELERY_TASK_ALWAYS_EAGER
)
# At most one taste update + playlist rebuild per listener per this many seconds from the events
# path (0: after every batch). On the embedded default the update runs inside the events request,
# so batches in a burst share one; GET /me/playlist and /me/taste catch up on what was left.
CADENZA_RECS_DIGEST_DEBOUNCE_S = env.float(
    "CADENZA_RECS_DIGEST_DEBOUNCE_S", default=5.0 if CELERY_TASK_ALWAYS_EAGER else 0.0
)
CADENZA_RECS_TASTE_VERSIONS_KEPT = env.int("CADENZA_RECS_TASTE_VERSIONS_KEPT", default=100)
# The population prior (recomputed by beat every six hours, config/celery.py) is the mean and
# covariance of the tastes of listeners with at least _MIN_EVENTS learned events, once there are
# at least _MIN_LISTENERS of them (an aggregate of fewer would say too much about each).
CADENZA_RECS_POPULATION_MIN_LISTENERS = env.int("CADENZA_RECS_POPULATION_MIN_LISTENERS", default=20)
CADENZA_RECS_POPULATION_MIN_EVENTS = env.int("CADENZA_RECS_POPULATION_MIN_EVENTS", default=20)
CADENZA_RECS_POPULATION_KEPT = env.int("CADENZA_RECS_POPULATION_KEPT", default=10)

# Every handler redacts credentials (JWTs, Bearer values, signed object tokens, presigned URL
# signatures): config/logfilters.py. runserver's request lines (django.server) go through it too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "config.logfilters.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "kombu.connection": {"level": "ERROR"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
