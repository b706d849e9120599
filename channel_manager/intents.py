"""A push intent: a row saved before anything is sent to Walmart (a shipment, a cancellation, a refund),
then pushed by a task after commit, retried with backoff and a cap, and never applied twice.

`PushIntent` is an abstract model: the fields every intent has and the state changes they go through,
each one conditional UPDATE (so two workers cannot both act on the same row). A concrete intent declares
its own `Status` (with at least PENDING, SENT and ERROR, plus what is its own: an order push can be
DISCARDED, a refund CANCELLED when Walmart refunds on its own), its `status` field and its
`request_maybe_applied` flag (each app words its help text for what is read back: the order, the return).

    Pending --claim (attempt id, claimed_until)--> claimed
            --in flight (request_maybe_applied, attempt_started_at; its own committed transaction)--> HTTP call
            --sent--> Sent
            --attempt failed--> Pending (next attempt later) or, on the final one, Error (with the reason)
    Error --retry--> Pending

The in-flight mark is written and committed BEFORE the request leaves, so whatever happens next (the
process killed, the database or Redis failing while the answer is stored, a time limit) the row says the
request may have been applied. Whoever pushes a row with `request_maybe_applied` reads Walmart back
first and sends only what Walmart does not show. A claim that expires with the row still Pending (its
worker died) is released by the sweep (`pushes_sweep`), which re-drives the row: the read-back decides.

How long a claim holds (`claim_seconds`): only as long as one attempt can still be sending. Before the
in-flight mark an expired claim is harmless (another attempt takes the row and this one's in-flight mark
fails); the mark re-arms the claim for the longest a request can take (the client's HTTP timeout for the
call, a token refresh and the one resend after a 401, plus a margin). A task that lost its database or
Redis retries itself within seconds under the same attempt id (its Celery task id), so it takes its own
claim back at once instead of waiting for it to expire (`channel_manager.push_tasks.retried_after_outage`).
"""

import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CLAIM_MARGIN_SECONDS = 30
CLAIM_REQUESTS_PER_ATTEMPT = 3  # the call, a token refresh, the one resend after a 401
RETRY_DELAY_FIRST_SECONDS = 10
RETRY_DELAY_MAX_SECONDS = 600
LOST_TASK_AFTER_SECONDS = 30  # a push's task starts within a second of its commit or its due time


def claim_seconds() -> float:
    """How long a claim on a unit of work holds: the longest one attempt can still be sending a request
    (`CLAIM_REQUESTS_PER_ATTEMPT` x the client's HTTP timeout) plus `CLAIM_MARGIN_SECONDS`. With the
    default 30 s timeout: 120 s."""
    timeout = float(getattr(settings, "WALMART_HTTP_TIMEOUT_SECONDS", 30.0))
    return CLAIM_REQUESTS_PER_ATTEMPT * timeout + CLAIM_MARGIN_SECONDS


def push_retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds until the next attempt after `attempts` failed ones: Walmart's Retry-After when it gave one,
    else 10 s doubling per attempt, at most 600 s (the same curve as the push tasks' backoff)."""
    return retry_after or min(RETRY_DELAY_FIRST_SECONDS * 2 ** (attempts - 1), RETRY_DELAY_MAX_SECONDS)


def request_maybe_applied_after(error: Exception, *, already: bool) -> bool:
    """After a retryable failure, may Walmart have applied the request? Yes when an earlier attempt may
    have, on a 5xx (Walmart may have applied it before failing), or on a connection failure after the
    request was sent (the answer was lost). A rate limit never reached the endpoint."""
    from walmart_client.errors import WalmartConnectionError, WalmartServerError

    return already or (
        isinstance(error, WalmartServerError) or (isinstance(error, WalmartConnectionError) and error.request_sent)
    )


class PushIntent(models.Model):
    """The fields and state changes shared by every intent pushed to Walmart (abstract: no table)."""

    # Declared by each concrete intent: its manager and its own `Status` (PENDING, SENT, ERROR at least).
    objects: ClassVar[models.Manager[Any]]
    Status: ClassVar[Any]

    error = models.TextField(blank=True, help_text=_("Walmart's message, or why the push failed."))
    correlation_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    attempt_id = models.CharField(
        max_length=32, blank=True, editable=False, help_text=_("The attempt that holds (or last held) the claim.")
    )
    attempt_started_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text=_("When the last request was marked in flight.")
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def push_claim(cls, pk: int, *, now: datetime | None = None, attempt_id: str | None = None) -> str | None:
        """Claim a Pending intent for one push (`claim_seconds()`). Returns the attempt id, or None when it
        is not Pending or another attempt holds an unexpired claim: then the caller sends nothing.

        `attempt_id` (at most 32 characters) names the attempt: a task passes its own id, so its retry after
        a database or Redis failure takes back the claim it still holds. Without one, a new id is drawn."""
        now = now or timezone.now()
        attempt_id = attempt_id or uuid.uuid4().hex
        claimed = (
            cls.objects.filter(pk=pk, status=cls.Status.PENDING)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(attempt_id=attempt_id))
            .update(claimed_until=now + timedelta(seconds=claim_seconds()), attempt_id=attempt_id)
        )
        return attempt_id if claimed else None

    @classmethod
    def push_in_flight(cls, pk: int, *, attempt_id: str) -> bool:
        """Mark the claimed intent in flight, in its own committed transaction, just before the request
        leaves: from now on it may have been applied; the claim is re-armed for `claim_seconds()` (the
        longest the request can take). False (send nothing) when the claim is no longer this attempt's (it
        expired and another attempt took the row)."""
        now = timezone.now()
        with transaction.atomic():
            return bool(
                cls.objects.filter(pk=pk, status=cls.Status.PENDING, attempt_id=attempt_id).update(
                    request_maybe_applied=True,
                    attempt_started_at=now,
                    claimed_until=now + timedelta(seconds=claim_seconds()),
                )
            )

    @classmethod
    def push_claim_release(cls, pk: int, *, attempt_id: str) -> int:
        """Give up this attempt's claim (its task lost the database or Redis and retries later): the row
        is free for the next attempt at once. Its in-flight mark stays, so that attempt reads Walmart back
        first. Returns 0 when the claim is no longer this attempt's."""
        return cls.objects.filter(pk=pk, status=cls.Status.PENDING, attempt_id=attempt_id).update(claimed_until=None)

    @classmethod
    def push_sent(cls, pk: int, *, correlation_id: str, only_pending: bool = False) -> int:
        """Mark it Sent (clears the error, the claim and the next attempt). With `only_pending`, only a
        Pending intent changes. Returns how many rows changed (0 or 1)."""
        rows = cls.objects.filter(pk=pk)
        if only_pending:
            rows = rows.filter(status=cls.Status.PENDING)
        return rows.update(
            status=cls.Status.SENT,
            sent_at=timezone.now(),
            error="",
            correlation_id=correlation_id,
            request_maybe_applied=False,
            claimed_until=None,
            next_attempt_at=None,
        )

    @classmethod
    def push_attempt_failed(
        cls,
        pk: int,
        *,
        attempts: int,
        error_text: str,
        correlation_id: str,
        maybe_applied: bool,
        final: bool,
        retry_after: float | None = None,
    ) -> None:
        """Record a failed attempt (`attempts`: the count including this one, counted with F()). On the final
        attempt it becomes Error; otherwise it stays Pending with its next attempt after `push_retry_delay`."""
        delay = push_retry_delay(attempts=attempts, retry_after=retry_after)
        cls.objects.filter(pk=pk).update(
            status=cls.Status.ERROR if final else cls.Status.PENDING,
            attempts=F("attempts") + 1,
            error=error_text,
            correlation_id=correlation_id,
            request_maybe_applied=maybe_applied,
            claimed_until=None,
            next_attempt_at=None if final else timezone.now() + timedelta(seconds=delay),
        )

    @classmethod
    def push_retry(cls, pk: int) -> bool:
        """Error -> Pending with its attempts reset, due now. False (nothing changed) when it is not in Error."""
        return bool(
            cls.objects.filter(pk=pk, status=cls.Status.ERROR).update(
                status=cls.Status.PENDING, attempts=0, claimed_until=None, next_attempt_at=timezone.now()
            )
        )

    @classmethod
    def push_claims_expired_release(cls, *, now: datetime) -> int:
        """Release the claims that expired on Pending intents (their worker died, or lost its database or
        Redis mid-push). Their in-flight mark stays: the next push reads Walmart back first."""
        return cls.objects.filter(status=cls.Status.PENDING, claimed_until__lt=now).update(claimed_until=None)

    @classmethod
    def pushes_lost(cls, *, now: datetime) -> QuerySet:
        """Pending intents whose task was lost: due for over LOST_TASK_AFTER_SECONDS and not claimed."""
        return cls.objects.filter(
            status=cls.Status.PENDING, next_attempt_at__lt=now - timedelta(seconds=LOST_TASK_AFTER_SECONDS)
        ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def pushes_sweep(model: type[PushIntent], task: Any, *, now: datetime, limit: int = 500) -> int:
    """The sweep of one kind of intent (registered with `channel_manager.work.sweep_register`): release
    the claims that expired, then enqueue every Pending intent due for over LOST_TASK_AFTER_SECONDS and not
    claimed. Safe to run twice and concurrently with the pushes: each push claims its row first, and an
    intent marked in flight is read back before anything is resent. Returns how many were enqueued."""
    from channel_manager.work import enqueue

    model.push_claims_expired_release(now=now)
    due = list(model.pushes_lost(now=now).order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    return sum(enqueue(task, pk) for pk in due)
