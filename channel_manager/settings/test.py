"""Settings for the test suite: DATABASE_URL / REDIS_URL when set (CI: PostgreSQL and Redis on
127.0.0.1), otherwise SQLite and an embedded Redis private to this test run."""

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
# Two fixed Fernet keys: the first encrypts, both decrypt (rotation is tested with them).
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "3q2-Fh4ZC4kBbjJr6nYx5w2xfOL8u6sV7q9D3lpZc0Q=,Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyMTI=",
)

from channel_manager.redis_urls import celery_broker_url
from channel_manager.settings.base import *  # noqa: F403
from channel_manager.settings.base import REDIS_URL, redis_caches

ALLOWED_HOSTS = ["*"]

# The Walmart emulator (its tables, admin, URLs under /walmart-emulator/ and periodic jobs) and the living
# demo of `make run` wired to it.
INSTALLED_APPS = [*INSTALLED_APPS, "walmart_emulator", "demo"]  # noqa: F405
WALMART_EMULATOR_ENABLED = True
PUBLIC_BASE_URL = "http://testserver"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not os.environ.get("DATABASE_URL"):  # noqa: F405
    # pytest builds its own in-memory database; commands run with these settings (makemigrations --check)
    # must not create or read the `make run` database in var/.
    DATABASES["default"]["NAME"] = ":memory:"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="cm-test-media-")
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="cm-test-static-"))

if not REDIS_URL:
    from channel_manager.embedded_redis import embedded_redis_start

    REDIS_URL = embedded_redis_start(directory=Path(tempfile.mkdtemp(prefix="cm-test-redis-")))
CACHES = redis_caches(REDIS_URL)
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
# A prefix per test run keeps runs sharing one Redis (CI's on 6379) out of each other's keys.
CACHES["default"]["KEY_PREFIX"] = f"cm-test-{uuid.uuid4().hex[:8]}"

# Tasks run in-process: tests call services and see the task's effects without a worker.
# The emulator processes a feed as soon as it is read (tests that need the delay set their own).
WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
WALMART_EMULATOR_REPORT_DELAY_SECONDS = 0
# A webhook's provisional order is written at once (not after waiting for others of its store): a test client's
# request is served alone.
ORDERS_PROVISIONAL_GATHER_SECONDS = 0

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# pytest captures log records itself (shown with a failing test); a console handler would print each
# one a second time.
LOGGING["handlers"]["null"] = {"class": "logging.NullHandler"}  # noqa: F405
LOGGING["root"]["handlers"] = ["null"]  # noqa: F405
