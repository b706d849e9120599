"""Settings the type checker loads (django-stubs imports them to learn the apps and models): the test
settings, with a Redis address given so that importing them starts no embedded Redis. mypy ends its process
without running exit handlers, so a server the test settings started for it was never stopped (one left
running per `make test` without REDIS_URL). Nothing connects to this address: the type checker opens no
connection."""

import os

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from channel_manager.settings.test import *  # noqa: F403
