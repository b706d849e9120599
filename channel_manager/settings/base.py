"""Settings shared by every environment. Read from the environment through django-environ.

Environment-specific modules (local, test, production) import everything from here and override.
Every setting read here is listed in the README's settings table.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from kombu import Queue

from channel_manager.queues import ALL_QUEUES, DEFAULT_QUEUE

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "channel_manager",
    "listings",
    "inventory",
    "pricing",
    "sync",
    "orders",
    "returns",
    "onboarding",
]
# The Walmart emulator (walmart_emulator) and the demo wired to it (demo) are installed by the local and test
# settings only: production has none of their tables, admin pages, URLs, tasks or periodic jobs.
WALMART_EMULATOR_ENABLED = False

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "channel_manager.urls"
WSGI_APPLICATION = "channel_manager.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
# A kept connection the server closed (a restart, a failover, pg_terminate_backend) is replaced at the start of
# the next request or task instead of failing it.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy timeout and IMMEDIATE transactions let web, worker and beat share one SQLite file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Log-in throttling (django-axes) ---------------------------------------------------------------
# Failed log-ins are counted per username, on the site's and admin's log-in alike; after
# LOGIN_FAILURE_LIMIT failures in a row the username is locked for LOGIN_LOCKOUT_MINUTES, even with the
# right password. Each failure is logged (username, IP address, path; axes masks every password field)
# and kept in admin (Axes). A successful log-in resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# Per username, not per IP address: behind the TLS proxy every client has the proxy's address, and a lock on
# it would let anyone lock everybody out with five wrong passwords. So axes' advice to add the address
# (its warning W006) is silenced on purpose.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_SENSITIVE_PARAMETERS: list[str] = []  # the username and IP address are logged; passwords never are
AXES_LOCKOUT_CALLABLE = "channel_manager.login_throttle.login_locked_out_response"
AXES_VERBOSE = False

# --- Content-Security-Policy (django-csp) ----------------------------------------------------------
# Scripts, styles, images and requests from this site only: no inline script or style, no eval, no
# framing. Page scripts live in static/js/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Uploads ------------------------------------------------------------------------------------
# The largest file an upload (a catalog import) may be; a larger one is refused with a clear error.
UPLOAD_MAX_MEGABYTES = env.int("UPLOAD_MAX_MEGABYTES", default=100)
FILE_UPLOAD_HANDLERS = [
    "channel_manager.uploads.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "store_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))

# --- Redis: broker and cache -------------------------------------------------------------------
# REDIS_URL is redis://host:port/db, rediss://..., or unix:///path/to/redis.sock?db=N (the embedded
# server of `make run`). Local and test settings start an embedded server when it is unset.
REDIS_URL = env("REDIS_URL", default=None)


def redis_caches(redis_url: str) -> dict[str, dict[str, Any]]:
    """CACHES for one Redis URL; environment modules set it (and CELERY_BROKER_URL, `celery_broker_url`)
    once REDIS_URL is known."""
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "cm"}
    }


# --- Celery ------------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Redis re-delivers an unacknowledged task after the visibility timeout: it must exceed the longest
# task (the hard time limit) by a wide margin, or a long task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Queues per kind of work (channel_manager/queues.py says which): a worker started without --queues
# consumes all of them; docker-compose runs one worker service per queue. Every task of the project is
# routed here (one map; each team adds its tasks' lines).
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
CELERY_TASK_QUEUES = [Queue(name) for name in ALL_QUEUES]
CELERY_TASK_ROUTES = {
    # intake
    "orders.tasks.orders_poll_due_task": {"queue": "intake"},
    "orders.tasks.order_poll_task": {"queue": "intake"},
    "orders.tasks.webhook_event_process_task": {"queue": "intake"},
    "orders.tasks.webhook_events_process_task": {"queue": "intake"},
    "orders.tasks.order_acknowledge_task": {"queue": "intake"},
    "orders.tasks.orders_acknowledge_task": {"queue": "intake"},
    "orders.tasks.orders_provisional_read_task": {"queue": "reads"},
    # pushes
    "orders.tasks.shipment_push_task": {"queue": "pushes"},
    "orders.tasks.cancellation_push_task": {"queue": "pushes"},
    "returns.tasks.refund_push_task": {"queue": "pushes"},
    "listings.tasks.listings_retire_task": {"queue": "pushes"},
    # sync
    "sync.tasks.sync_run_task": {"queue": "sync"},
    "sync.tasks.sync_feed_poll_task": {"queue": "sync"},
    "sync.tasks.sync_reconcile_task": {"queue": "sync"},
    "sync.tasks.inventory_sync_tick_task": {"queue": "sync"},
    "sync.tasks.price_sync_tick_task": {"queue": "sync"},
    "sync.tasks.sync_reconcile_tick_task": {"queue": "sync"},
    "listings.tasks.match_feed_submit_task": {"queue": "sync"},
    "listings.tasks.match_feeds_poll_task": {"queue": "sync"},
    "listings.tasks.listings_reconcile_task": {"queue": "sync"},
    "listings.tasks.store_listings_reconcile_task": {"queue": "sync"},
    # reads
    "channel_manager.tasks.sweep_task": {"queue": "reads"},
    "returns.tasks.returns_poll_due_task": {"queue": "reads"},
    "returns.tasks.returns_poll_task": {"queue": "reads"},
    "listings.tasks.listings_reread_task": {"queue": "reads"},
    "listings.tasks.catalog_import_task": {"queue": "reads"},
    "demo.tasks.demo_store_start_task": {"queue": "reads"},
    "onboarding.tasks.walmart_import_task": {"queue": "reads"},
    "onboarding.tasks.store_connected_task": {"queue": "reads"},
    # re-reads an order whose SKU was just linked: intake work
    "onboarding.tasks.orders_relink_task": {"queue": "intake"},
}

# --- Channel Manager ---------------------------------------------------------------------------
# Fernet keys (urlsafe base64, 32 bytes) for secrets at rest; the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

WALMART_EMULATOR_BASE_URL = env("WALMART_EMULATOR_BASE_URL", default="http://127.0.0.1:8000/walmart-emulator")
# The address this product is reached at by Walmart (scheme, host and port, no path), e.g. https://cm.example.com:
# the base of the webhook endpoint the stores subscribe. Empty: webhooks cannot be subscribed or tested. Never
# taken from a request's Host header, which whoever sends the request chooses.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")
WALMART_PRODUCTION_BASE_URL = "https://marketplace.walmartapis.com"
WALMART_SANDBOX_BASE_URL = "https://sandbox.walmartapis.com"
WALMART_API_SPECS_DIR = env("WALMART_API_SPECS_DIR", default=str(BASE_DIR.parent / "shared" / "walmart-api"))
WALMART_HTTP_TIMEOUT_SECONDS = env.float("WALMART_HTTP_TIMEOUT_SECONDS", default=30.0)

# Tunables of the apps. Each app keeps its own default (`getattr(settings, NAME, default)`); these
# variables override it when set. Figures Walmart does not confirm in its spec are among them.
_APP_TUNABLES = {
    "WALMART_RATE_LIMIT_MAX_WAIT_SECONDS": env.float("WALMART_RATE_LIMIT_MAX_WAIT_SECONDS", default=None),
    "WALMART_AUTO_CANCEL_DAYS": env.float("WALMART_AUTO_CANCEL_DAYS", default=None),
    "WALMART_CONNECTION_TEST_TIMEOUT_SECONDS": env.float("WALMART_CONNECTION_TEST_TIMEOUT_SECONDS", default=None),
    "LISTINGS_MATCH_FEED_TIMEOUT_HOURS": env.float("LISTINGS_MATCH_FEED_TIMEOUT_HOURS", default=None),
    "SYNC_NUDGE_DELAY_SECONDS": env.float("SYNC_NUDGE_DELAY_SECONDS", default=None),
    "SYNC_FEED_STALE_HOURS": env.float("SYNC_FEED_STALE_HOURS", default=None),
    "SYNC_SEND_DEADLINE_SECONDS": env.float("SYNC_SEND_DEADLINE_SECONDS", default=None),
    "SYNC_FEED_POLL_OVERDUE_SECONDS": env.float("SYNC_FEED_POLL_OVERDUE_SECONDS", default=None),
    "SYNC_RESCAN_SECONDS": env.float("SYNC_RESCAN_SECONDS", default=None),
    "SYNC_RECONCILE_SLICE_SECONDS": env.float("SYNC_RECONCILE_SLICE_SECONDS", default=None),
    "ORDERS_INITIAL_LOOKBACK_DAYS": env.float("ORDERS_INITIAL_LOOKBACK_DAYS", default=None),
    "ORDERS_UPSERT_BATCH_SIZE": env.int("ORDERS_UPSERT_BATCH_SIZE", default=None),
    "ORDERS_POLL_READ_AHEAD_BATCHES": env.int("ORDERS_POLL_READ_AHEAD_BATCHES", default=None),
    "ORDERS_POLL_WRITERS": env.int("ORDERS_POLL_WRITERS", default=None),
    "ORDERS_POLL_CREATED_WITHIN_DAYS": env.float("ORDERS_POLL_CREATED_WITHIN_DAYS", default=None),
    "ORDERS_RELEASED_LOOKBACK_DAYS": env.float("ORDERS_RELEASED_LOOKBACK_DAYS", default=None),
    "ORDERS_SHIP_DATE_MAX_DAYS_AHEAD": env.int("ORDERS_SHIP_DATE_MAX_DAYS_AHEAD", default=None),
    "ORDERS_PROVISIONAL_READ_FIRST_SECONDS": env.int("ORDERS_PROVISIONAL_READ_FIRST_SECONDS", default=None),
    "ORDERS_PROVISIONAL_READ_MAX_SECONDS": env.int("ORDERS_PROVISIONAL_READ_MAX_SECONDS", default=None),
    "ORDERS_PROVISIONAL_GIVE_UP_SECONDS": env.int("ORDERS_PROVISIONAL_GIVE_UP_SECONDS", default=None),
    "ORDERS_PROVISIONAL_GATHER_SECONDS": env.float("ORDERS_PROVISIONAL_GATHER_SECONDS", default=None),
    "RETURNS_INITIAL_LOOKBACK_DAYS": env.float("RETURNS_INITIAL_LOOKBACK_DAYS", default=None),
    "RETURNS_AUTO_REFUND_HOURS": env.float("RETURNS_AUTO_REFUND_HOURS", default=None),
    "RETURNS_DEADLINE_WARNING_HOURS": env.float("RETURNS_DEADLINE_WARNING_HOURS", default=None),
    "WALMART_EMULATOR_FEED_DELAY_SECONDS": env.float("WALMART_EMULATOR_FEED_DELAY_SECONDS", default=None),
    "WALMART_EMULATOR_REPORT_DELAY_SECONDS": env.float("WALMART_EMULATOR_REPORT_DELAY_SECONDS", default=None),
    "ONBOARDING_ITEMS_API_MAX": env.int("ONBOARDING_ITEMS_API_MAX", default=None),
    "ONBOARDING_REPORT_POLL_SECONDS": env.float("ONBOARDING_REPORT_POLL_SECONDS", default=None),
    "ONBOARDING_IMPORT_STALE_MINUTES": env.float("ONBOARDING_IMPORT_STALE_MINUTES", default=None),
}
globals().update({name: value for name, value in _APP_TUNABLES.items() if value is not None})

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
