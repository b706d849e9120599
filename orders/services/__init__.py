"""Writes of the orders app, one module per part:

- `intake`: the poll (and the released-orders queue), a single order fetched by id, and the batch upsert
  of Walmart's purchase orders (`diff`: what a batch changes, computed without the database).
- `acknowledge`: acknowledgement on Walmart.
- `operations`: shipments and cancellations, saved as intents and pushed after commit.
- `webhooks`: deliveries recorded once and processed, and the store's subscriptions on Walmart.
- `provisional`: an order stored from Walmart's PO_CREATED notification at once, completed by the next read.
- `common`: order settings, the timeline, the status-card counters, an order's status.

Every push to Walmart follows the same rule: the intent row is saved first (a `Shipment`, a
`Cancellation`), the push runs after commit in a task, and an ambiguous failure (a timeout after the
request was sent, a 5xx) is resolved by reading the order back from Walmart before anything is resent.
Stock follows Walmart's quantities: a unit is reserved once when the order is first stored and given back
once when Walmart shows it cancelled (by us, by the customer, by auto-cancel or in Seller Center).

Callers import from `orders.services`; the names below are its public API.
"""

from orders.services.acknowledge import acknowledgements_sweep, order_acknowledge
from orders.services.common import (
    Actor,
    order_event_add,
    order_settings_ensure,
    order_settings_update,
    order_status_counts_rebuild,
    order_status_counts_shift,
    order_status_refresh,
)
from orders.services.intake import (
    PollResult,
    UpsertResult,
    order_fetch,
    order_poll,
    order_refresh,
    order_upsert_from_walmart,
    orders_upsert_from_walmart,
    stores_poll_due,
)
from orders.services.operations import (
    cancellation_create,
    cancellation_push,
    cancellations_sweep,
    operation_discard,
    operation_retry,
    order_line_remaining,
    shipment_create,
    shipment_push,
    shipments_sweep,
)
from orders.services.provisional import (
    ProvisionalReadResult,
    order_complete_required,
    order_provisional_gather,
    order_provisional_release,
    order_provisional_store,
    orders_provisional_read,
    orders_provisional_store,
    orders_provisional_sweep,
)
from orders.services.webhooks import (
    ORDER_EVENT_TYPES,
    webhook_endpoint_url,
    webhook_event_process,
    webhook_event_record,
    webhook_events_enqueue,
    webhook_events_process,
    webhook_events_release,
    webhook_events_sweep,
    webhook_signature_valid,
    webhook_subscribe,
    webhook_subscriptions,
    webhook_test,
    webhook_unsubscribe,
)

__all__ = [
    "ORDER_EVENT_TYPES",
    "Actor",
    "acknowledgements_sweep",
    "PollResult",
    "UpsertResult",
    "cancellation_create",
    "cancellation_push",
    "cancellations_sweep",
    "operation_discard",
    "operation_retry",
    "order_acknowledge",
    "order_event_add",
    "order_fetch",
    "order_line_remaining",
    "order_poll",
    "order_refresh",
    "order_settings_ensure",
    "order_settings_update",
    "order_status_counts_rebuild",
    "order_status_counts_shift",
    "order_status_refresh",
    "order_upsert_from_walmart",
    "orders_upsert_from_walmart",
    "shipment_create",
    "shipment_push",
    "shipments_sweep",
    "stores_poll_due",
    "webhook_event_process",
    "webhook_endpoint_url",
    "webhook_event_record",
    "ProvisionalReadResult",
    "order_complete_required",
    "order_provisional_release",
    "order_provisional_gather",
    "order_provisional_store",
    "orders_provisional_store",
    "orders_provisional_read",
    "orders_provisional_sweep",
    "webhook_events_enqueue",
    "webhook_events_process",
    "webhook_events_release",
    "webhook_events_sweep",
    "webhook_signature_valid",
    "webhook_subscribe",
    "webhook_subscriptions",
    "webhook_test",
    "webhook_unsubscribe",
]
