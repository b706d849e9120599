"""A timeline entry: what happened to a record (an order, a return), by whom or what, with Walmart's
correlation id. `TimelineEvent` is abstract (no table); a concrete timeline adds its foreign key, its
`Actor` choices and `actor` field, and its index. Pages show it with `channel_manager/_timeline.html`."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class TimelineEvent(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    message = models.TextField()
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    actor: str  # a concrete timeline's field, with its own `Actor` choices

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor}: {self.message}"
