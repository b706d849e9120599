"""Acknowledgements under Walmart's rate limit: a refusal for the rate limit is a wait (no timeline row, the
order handed to its store's waiting task), a real refusal is written on the order's timeline; the bucket
Walmart reported (x-current-token-count, x-next-replenish-time) paces the next orders before any request."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import responses
from celery.signals import task_prerun

from orders import tasks
from orders.models import Order, OrderEvent, OrderSettings
from orders.services import order_acknowledge, orders_upsert_from_walmart
from orders.tasks import orders_acknowledge_task
from tests.orders.conftest import calls_to
from tests.orders.factories import line_json, order_json
from tests.orders.test_intake import acknowledged
from walmart_client.errors import WalmartError, WalmartRateLimited
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db


def bucket(tokens: int, replenish_in: float) -> dict[str, str]:
    """Walmart's rate-limit headers: `tokens` left, the next token `replenish_in` seconds from now."""
    return {
        "x-current-token-count": str(tokens),
        "x-next-replenish-time": str(int((time.time() + replenish_in) * 1000)),
    }


def new_orders(store, *purchase_order_ids: str) -> dict[str, dict]:
    """Orders stored, not acknowledged, nothing queued (auto-acknowledge off while they are taken in)."""
    OrderSettings.objects.update_or_create(store=store, defaults={"auto_acknowledge": False})
    remotes = {po: order_json(po, lines=[line_json()]) for po in purchase_order_ids}
    orders_upsert_from_walmart(
        store=store, remotes=[WalmartOrder.from_api(remote) for remote in remotes.values()], actor="schedule"
    )
    return remotes


@contextmanager
def acknowledgement_task_runs() -> Iterator[list[int | None]]:
    """The `store_id` of every acknowledgement task run inside the block (None: a chunk's own task)."""
    runs: list[int | None] = []

    def count(sender=None, **kwargs):
        if getattr(sender, "name", "") == orders_acknowledge_task.name:
            runs.append(kwargs["args"][2] if len(kwargs["args"]) > 2 else kwargs["kwargs"].get("store_id"))

    task_prerun.connect(count)
    try:
        yield runs
    finally:
        task_prerun.disconnect(count)


def timeline(purchase_order_id: str) -> list[str]:
    return list(
        OrderEvent.objects.filter(order__purchase_order_id=purchase_order_id)
        .filter(message__contains="cknowledge")
        .order_by("pk")
        .values_list("message", flat=True)
    )


def test_a_rate_limited_attempt_leaves_no_timeline_row_and_a_real_refusal_does(
    store, walmart_api, api_base, listed_product
):
    # given: PO-1 waiting for its acknowledgement; Walmart answers 429 (come back in 30 s), then 400
    new_orders(store, "PO-1")
    url = f"{api_base}/v3/orders/PO-1/acknowledge"
    walmart_api.add(responses.POST, url, status=429, json={}, headers={"Retry-After": "30"})
    walmart_api.add(
        responses.POST,
        url,
        status=400,
        json={"errors": {"error": [{"code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "description": "Bad PO"}]}},
    )
    order = Order.objects.get(purchase_order_id="PO-1")
    # when: acknowledged while Walmart's bucket is empty
    with pytest.raises(WalmartRateLimited) as refused:
        order_acknowledge(order_id=order.pk)
    # then: a wait of 30 s, the order free for the next attempt, not maybe-applied, nothing on its timeline
    assert refused.value.retry_after == 30
    order.refresh_from_db()
    assert (order.acknowledged_at, order.acknowledging_since, order.acknowledge_maybe_applied) == (None, None, False)
    assert timeline("PO-1") == []
    # when: the next attempt is refused for a real reason
    with pytest.raises(WalmartError) as failed:
        order_acknowledge(order_id=order.pk)
    # then: that one is on the timeline, once
    assert not isinstance(failed.value, WalmartRateLimited)
    assert timeline("PO-1") == ["Acknowledgement failed: INVALID_REQUEST_CONTENT.GMP_ORDER_API: Bad PO"]
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/acknowledge")) == 2


def test_orders_wait_for_the_bucket_walmart_reported_instead_of_being_refused(
    store, walmart_api, api_base, listed_product, monkeypatch
):
    # given: three orders to acknowledge; Walmart's answer to PO-1 says its bucket is empty for 1.5 s more
    remotes = new_orders(store, "PO-1", "PO-2", "PO-3")
    url = f"{api_base}/v3/orders/{{}}/acknowledge"
    walmart_api.add(
        responses.POST, url.format("PO-1"), json={"order": acknowledged(remotes["PO-1"])}, headers=bucket(0, 1.5)
    )
    for po in ("PO-2", "PO-3"):
        walmart_api.add(responses.POST, url.format(po), json={"order": acknowledged(remotes[po])}, headers=bucket(5, 1))
    pks = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    monkeypatch.setattr(tasks, "ACKNOWLEDGE_IDLE_WAITS", 2)  # a test's tasks run at once, their countdown skipped
    with acknowledgement_task_runs() as runs:
        # when: one task acknowledges the chunk
        orders_acknowledge_task.apply(args=[pks])
        # then: PO-1 only; PO-2 and PO-3 were not sent (no 429 to earn) and wait for the store's waiting task,
        # which (run here at once, before the refill) found no token twice and stopped; nothing on their timelines
        assert [len(calls_to(walmart_api, "POST", f"/v3/orders/{po}/acknowledge")) for po in remotes] == [1, 0, 0]
        assert runs == [None, store.pk, store.pk]
        assert set(Order.objects.filter(acknowledged_at__isnull=True).values_list("purchase_order_id", flat=True)) == {
            "PO-2",
            "PO-3",
        }
        assert (timeline("PO-1"), timeline("PO-2"), timeline("PO-3")) == (["Acknowledged on Walmart."], [], [])
        # when: the bucket has refilled and the store's waiting task runs again (a new order handed on, or the sweep)
        time.sleep(1.6)
        orders_acknowledge_task.apply(args=[[]], kwargs={"store_id": store.pk})
    # then: the two waiting orders went, once each, oldest first
    assert [len(calls_to(walmart_api, "POST", f"/v3/orders/{po}/acknowledge")) for po in remotes] == [1, 1, 1]
    sent = [call.request.url.split("/")[-2] for call in walmart_api.calls if call.request.url.endswith("/acknowledge")]
    assert sent == ["PO-1", "PO-2", "PO-3"]
    assert not Order.objects.filter(acknowledged_at__isnull=True).exists()


def test_chunks_that_meet_an_empty_bucket_share_one_waiting_task(
    store, walmart_api, api_base, listed_product, monkeypatch
):
    from django.core.cache import cache

    from orders.services.acknowledge import acknowledgements_defer, acknowledgements_waiting_take

    # given: four orders, in two chunks, that find Walmart's bucket empty for 30 s
    new_orders(store, "PO-1", "PO-2", "PO-3", "PO-4")
    pks = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    cache.set(f"orders:acknowledge:waiting-task:{store.pk}", 1, timeout=60)  # the store's waiting task is queued
    with acknowledgement_task_runs() as runs:
        # when: both chunks hand their orders on, the second chunk's first
        acknowledgements_defer(store_id=store.pk, order_pks=pks[2:], wait=30, attempt=1, idle_waits=0)
        acknowledgements_defer(store_id=store.pk, order_pks=pks[:2], wait=30, attempt=1, idle_waits=0)
    # then: no second waiting task; the waiting one takes all four, oldest first, and clears its mark
    assert runs == []
    assert acknowledgements_waiting_take(store_id=store.pk) == pks
    assert cache.get(f"orders:acknowledge:waiting-task:{store.pk}") is None
    assert acknowledgements_waiting_take(store_id=store.pk) == []
    assert not walmart_api.calls


def test_a_redis_outage_leaves_the_waiting_orders_to_the_sweep(store, walmart_api, listed_product, settings):
    from datetime import timedelta

    from django.utils import timezone

    from orders.services.acknowledge import (
        acknowledgements_defer,
        acknowledgements_due,
        acknowledgements_waiting_take,
    )

    # given: an order to acknowledge (auto-acknowledge on) and Redis unreachable
    new_orders(store, "PO-1")
    OrderSettings.objects.filter(store=store).update(auto_acknowledge=True)
    pk = Order.objects.get(purchase_order_id="PO-1").pk
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with acknowledgement_task_runs() as runs:
        # when: it is handed to the store's waiting task, and that task looks for its orders
        acknowledgements_defer(store_id=store.pk, order_pks=[pk], wait=5, attempt=1, idle_waits=0)
        taken = acknowledgements_waiting_take(store_id=store.pk)
    # then: neither raises; nothing ran or was sent; the order is still the sweep's once due
    assert (taken, runs, len(walmart_api.calls)) == ([], [], 0)
    assert acknowledgements_due(now=timezone.now() + timedelta(minutes=2)) == [pk]
