"""Channel Manager: the Django project package and the core shared by every app."""

from channel_manager.celery import app as celery_app

__all__ = ("celery_app",)
