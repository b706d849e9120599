"""The emulator's adjustable clock: real time plus an offset kept in the database.

Every rule that depends on time (token expiry, feed due time, auto-cancel, auto-refund, delivery,
rate-limit refills) reads `emulator_now()`, so tests and the demo move time with `clock_advance`.
"""

from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from walmart_emulator.models import EmulatorClock


def emulator_now() -> datetime:
    """The emulator's current time (aware). One small query (raw SQL: it runs on every API call)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT offset_seconds FROM {connection.ops.quote_name(EmulatorClock._meta.db_table)} WHERE id = 1"  # noqa: S608
        )
        row = cursor.fetchone()
    return timezone.now() + timedelta(seconds=row[0] if row else 0.0)


def clock_advance(*, seconds: float) -> datetime:
    """Move the emulator's clock forward (or back, with a negative value). Returns the new time."""
    clock, _ = EmulatorClock.objects.get_or_create(pk=1)
    clock.offset_seconds += seconds
    clock.save(update_fields=["offset_seconds"])
    return emulator_now()


def clock_reset() -> None:
    """Back to real time."""
    EmulatorClock.objects.update_or_create(pk=1, defaults={"offset_seconds": 0.0})


def waiting_status(*, received_at: datetime, due_at: datetime, now: datetime) -> str:
    """What Walmart shows for work it has accepted and not finished (a feed, a report): RECEIVED for the first
    half of the wait, INPROGRESS for the second."""
    return "RECEIVED" if now < received_at + (due_at - received_at) / 2 else "INPROGRESS"


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
