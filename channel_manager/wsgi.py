"""WSGI entry point (gunicorn channel_manager.wsgi). Production settings unless told otherwise.

The process is warmed up before it serves (`channel_manager.warmup`): its first request costs what any
other does."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.production")

application = get_wsgi_application()

from channel_manager.warmup import warm_up  # noqa: E402 - needs the apps loaded by get_wsgi_application

warm_up()
