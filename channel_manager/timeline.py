"""A timeline entry: what happened to a record (an order, a return), by whom or what, with Walmart's
correlation id. `TimelineEvent` is abstract (no table); a concrete timeline adds its foreign key, its
`Actor` choices and `actor` field, and its index. Pages show it with `channel_manager/_timeline.html`."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

PERSON_ACTORS = ("operator", "admin")  # the actors a user stands behind (dashboard, admin)


def actor_name(actor: Any = None, user: Any = None) -> str:
    """Who did it, as a stock movement or an audit line names it: the user's username when a person acted
    (`actor` is an operator or admin and `user` is given, or `actor` is the user itself), else the actor's
    value ("schedule", "webhook"...), "system" when there is none."""
    if user is not None and str(actor) in PERSON_ACTORS:
        return user.get_username()
    if actor is None or actor == "":
        return "system"
    if isinstance(actor, str):
        return str(actor)
    return actor.get_username()


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
