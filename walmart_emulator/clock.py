"""The emulator's adjustable clock: real time plus an offset kept in the database.

Every rule that depends on time (token expiry, feed due time, auto-cancel, auto-refund, delivery,
rate-limit refills) reads `emulator_now()`, so tests and the demo move time with `clock_advance`.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from walmart_emulator.models import EmulatorClock


def emulator_now() -> datetime:
    """The emulator's current time (aware). One small query."""
    offset = EmulatorClock.objects.filter(pk=1).values_list("offset_seconds", flat=True).first() or 0.0
    return timezone.now() + timedelta(seconds=offset)


def clock_advance(*, seconds: float) -> datetime:
    """Move the emulator's clock forward (or back, with a negative value). Returns the new time."""
    clock, _ = EmulatorClock.objects.get_or_create(pk=1)
    clock.offset_seconds += seconds
    clock.save(update_fields=["offset_seconds"])
    return emulator_now()


def clock_reset() -> None:
    """Back to real time."""
    EmulatorClock.objects.update_or_create(pk=1, defaults={"offset_seconds": 0.0})


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
