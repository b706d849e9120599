"""Production settings: everything from the environment, no default for any secret.

A missing DJANGO_SECRET_KEY, DATABASE_URL, REDIS_URL, FIELD_ENCRYPTION_KEYS or DJANGO_ALLOWED_HOSTS
stops the process at start with django-environ's ImproperlyConfigured naming the variable.
"""

from channel_manager.redis_urls import celery_broker_url
from channel_manager.settings.base import *  # noqa: F403
from channel_manager.settings.base import env, redis_caches

DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
# A connection lives an hour (health-checked before reuse): each new one is a new PostgreSQL session whose
# first queries load its catalog caches, which a request would otherwise pay every minute per worker.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=3600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
REDIS_URL = env("REDIS_URL")
CACHES = redis_caches(REDIS_URL)
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
