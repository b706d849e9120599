"""Settings of the soak's processes: the project's local settings (they install the Walmart emulator), pointed
at the soak's PostgreSQL and Redis by the environment the soak sets (DEBUG off), with one addition: the
emulator's own tasks (webhook deliveries, feed processing, its sweep) go to a queue of their own, served by
the emulator's own worker. Walmart delivers its webhooks whatever the product's workers are busy with;
sharing the product's worker slots would charge Walmart's delays to the product's intake latency."""

from channel_manager.settings.local import *  # noqa: F403

WALMART_QUEUE = "soak-walmart-emulator"

_project_routes = globals().get("CELERY_TASK_ROUTES")
_walmart_routes = {"walmart_emulator.tasks.*": {"queue": WALMART_QUEUE}}
if _project_routes is None:
    CELERY_TASK_ROUTES = [_walmart_routes]
elif isinstance(_project_routes, list | tuple):
    CELERY_TASK_ROUTES = [_walmart_routes, *_project_routes]
else:
    CELERY_TASK_ROUTES = [_walmart_routes, _project_routes]

# Every key of this run (cache and broker) under a prefix of its own, so a Redis shared through REDIS_URL
# never hands this run another run's queued tasks or cached tokens.
_run = env("SOAK_RUN_ID", default="soak")  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"{_run}:cm"  # noqa: F405
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"{_run}:"}  # noqa: F405
