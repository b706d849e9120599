"""WSGI entry point (gunicorn channel_manager.wsgi). Production settings unless told otherwise."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.production")

application = get_wsgi_application()
