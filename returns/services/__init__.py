"""Writes of the returns app: intake of Walmart's returns, refunds (intent, push, retry), and the pull-back
of refunds Walmart made on its own. One module per part:

- `intake`: the poll, one return read again, the upsert on `(store, return_order_id)`.
- `refunds`: refund validation, the intent with its stock moves, the push, retry; restock without refund.
- `common`: returns settings, the timeline, a return's status.

Rules that hold everywhere:
- A return is upserted on `(store, return_order_id)`; reading it again updates it.
- A refund is validated completely before anything is written: its quantity never exceeds what was
  returned minus what is refunded or being refunded, its money never exceeds what was charged for those
  units (pro rata per unit, tax included). A refused refund writes nothing, moves no stock, sends nothing.
- A refund is saved as an intent row (with its stock moves, in one transaction) and pushed by a task
  after commit. An ambiguous failure (a timeout after the request left, a 5xx) is resolved by reading the
  return (or the order) back from Walmart before anything is resent, so nothing is refunded twice.
- A refund Walmart made on its own (the auto-refund after the deadline, or one done in Seller Center) is
  seen by intake: the return becomes Refunded and pending refunds of those units are cancelled, never sent.

Callers import from `returns.services`; the names below are its public API.
"""

from returns.services.common import (
    Actor,
    return_event_add,
    return_settings_ensure,
    return_settings_update,
    return_status_refresh,
)
from returns.services.intake import (
    PollResult,
    return_refresh,
    return_upsert_from_walmart,
    returns_poll,
    stores_poll_due,
)
from returns.services.refunds import (
    DEFAULT_REFUND_REASON,
    RefundLineRequest,
    refund_available,
    refund_create,
    refund_push,
    refund_retry,
    refunds_sweep,
    return_restock,
)

__all__ = [
    "DEFAULT_REFUND_REASON",
    "Actor",
    "PollResult",
    "RefundLineRequest",
    "refund_available",
    "refund_create",
    "refund_push",
    "refund_retry",
    "refunds_sweep",
    "return_event_add",
    "return_refresh",
    "return_restock",
    "return_settings_ensure",
    "return_settings_update",
    "return_status_refresh",
    "return_upsert_from_walmart",
    "returns_poll",
    "stores_poll_due",
]
