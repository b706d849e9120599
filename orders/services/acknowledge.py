"""Acknowledgement of purchase orders on Walmart (POST /v3/orders/{id}/acknowledge)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channel_manager.polling import client_correlation_id
from channel_manager.walmart import error_text, walmart_client_for_store
from orders.models import (
    Order,
    OrderEvent,
)
from orders.services.common import order_event_add
from orders.services.intake import order_upsert_from_walmart

Actor = OrderEvent.Actor

ACKNOWLEDGE_CLAIM_SECONDS = 600


def order_acknowledge(*, order_id: int, actor: str = Actor.SYSTEM, force: bool = False, user=None) -> bool:
    """Acknowledge a purchase order on Walmart (POST /v3/orders/{id}/acknowledge) and store the answer.

    Runs at most once per order unless `force` (re-acknowledge, which Walmart allows): a claim on the row
    keeps two workers from both calling. Returns True when Walmart was called and answered. Raises
    WalmartError on failure (the claim is released, so a retry can run).
    """
    now = timezone.now()
    claim = Order.objects.filter(pk=order_id).filter(
        Q(acknowledging_since__isnull=True)
        | Q(acknowledging_since__lt=now - timedelta(seconds=ACKNOWLEDGE_CLAIM_SECONDS))
    )
    if not force:
        claim = claim.filter(acknowledged_at__isnull=True)
    if not claim.update(acknowledging_since=now):
        return False
    order = Order.objects.select_related("store").get(pk=order_id)
    client = walmart_client_for_store(order.store)
    try:
        remote = client.orders.acknowledge(order.purchase_order_id)
    except Exception as error:
        Order.objects.filter(pk=order_id).update(acknowledging_since=None)
        order_event_add(
            order=order,
            actor=actor,
            user=user,
            message=f"Acknowledgement failed: {error_text(error)}",
            correlation_id=getattr(error, "correlation_id", "") or "",
        )
        raise
    correlation_id = client_correlation_id(client)
    with transaction.atomic():
        order_upsert_from_walmart(store=order.store, remote=remote, actor=actor, correlation_id=correlation_id)
        Order.objects.filter(pk=order_id).update(acknowledged_at=timezone.now(), acknowledging_since=None)
        order_event_add(
            order=order,
            actor=actor,
            user=user,
            message="Re-acknowledged on Walmart." if force else "Acknowledged on Walmart.",
            correlation_id=correlation_id,
        )
    return True
