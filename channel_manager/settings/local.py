"""Settings for `make run` and development: SQLite and an embedded Redis unless told otherwise.

Secrets for this machine are generated once into var/local.env (never committed), so a second
`make run` reuses the same database, sessions and encrypted store secrets.
"""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

_BASE_DIR = Path(__file__).resolve().parent.parent.parent
_LOCAL_ENV = _BASE_DIR / "var" / "local.env"


def _local_env_ensure() -> None:
    if not _LOCAL_ENV.exists():
        _LOCAL_ENV.parent.mkdir(parents=True, exist_ok=True)
        _LOCAL_ENV.write_text(
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\nFIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        _LOCAL_ENV.chmod(0o600)
    for line in _LOCAL_ENV.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and name not in os.environ:
            os.environ[name] = value


_local_env_ensure()
os.environ.setdefault("DJANGO_DEBUG", "true")

from channel_manager.redis_urls import celery_broker_url  # noqa: E402
from channel_manager.settings.base import *  # noqa: E402, F403
from channel_manager.settings.base import BASE_DIR, REDIS_URL, env, redis_caches  # noqa: E402

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# The Walmart emulator (its tables, admin, URLs under /walmart-emulator/ and periodic jobs) and the living
# demo of `make run` wired to it.
INSTALLED_APPS = [*INSTALLED_APPS, "walmart_emulator", "demo"]  # noqa: F405
WALMART_EMULATOR_ENABLED = True
# `make run` serves on 127.0.0.1:8000 unless HOST/PORT say otherwise (the launcher sets PUBLIC_BASE_URL then).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

if not REDIS_URL:
    from channel_manager.embedded_redis import embedded_redis_start

    REDIS_URL = embedded_redis_start(directory=BASE_DIR / "var" / "redis")
CACHES = redis_caches(REDIS_URL)
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
