"""Acknowledgements are queued one task per chunk of new orders; each order is still its own unit of work."""

import inspect

import pytest
import responses

from orders.models import Order, OrderSettings
from orders.services import orders_upsert_from_walmart
from orders.tasks import orders_acknowledge_task
from tests.orders.conftest import after_commit, calls_to
from tests.orders.factories import line_json, order_json
from tests.orders.test_intake import acknowledged
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db


def test_a_refused_order_does_not_stop_the_batch_and_a_rate_limit_resumes_where_it_stopped(
    store, walmart_api, api_base, listed_product, order_settings
):
    # given: three new orders stored, nothing queued yet (auto-acknowledge off)
    OrderSettings.objects.filter(pk=order_settings.pk).update(auto_acknowledge=False)
    remotes = {po: order_json(po, lines=[line_json()]) for po in ("PO-1", "PO-2", "PO-3")}
    orders_upsert_from_walmart(
        store=store, remotes=[WalmartOrder.from_api(remote) for remote in remotes.values()], actor="schedule"
    )
    pks = [Order.objects.get(purchase_order_id=po).pk for po in remotes]
    # and: Walmart acknowledges PO-1, refuses PO-2 (400), and answers 429 to PO-3 until its bucket refills
    url = f"{api_base}/v3/orders/{{}}/acknowledge"
    walmart_api.add(responses.POST, url.format("PO-1"), json={"order": acknowledged(remotes["PO-1"])})
    walmart_api.add(responses.POST, url.format("PO-2"), status=400, json={"errors": [{"code": "INVALID_PO"}]})
    for _ in range(4):  # the client's own attempts at one call
        walmart_api.add(responses.POST, url.format("PO-3"), status=429, json={}, headers={"Retry-After": "0"})
    walmart_api.add(responses.POST, url.format("PO-3"), json={"order": acknowledged(remotes["PO-3"])})
    # when: one task acknowledges the chunk (the rest of it is handed to a new task after the 429)
    with after_commit():
        orders_acknowledge_task.apply(args=[pks])
    # then: PO-1 and PO-3 acknowledged, PO-2 not, with Walmart's refusal on its timeline
    acknowledged_at = dict(Order.objects.values_list("purchase_order_id", "acknowledged_at"))
    assert acknowledged_at["PO-1"] is not None
    assert acknowledged_at["PO-2"] is None
    assert acknowledged_at["PO-3"] is not None
    assert Order.objects.get(purchase_order_id="PO-2").events.filter(message__contains="INVALID_PO").count() == 1
    # and: nothing was sent twice: PO-1 once, PO-2 once, PO-3 four refused attempts then the one that went through
    calls = {po: len(calls_to(walmart_api, "POST", f"/v3/orders/{po}/acknowledge")) for po in remotes}
    assert calls == {"PO-1": 1, "PO-2": 1, "PO-3": 5}


def test_intake_queues_one_acknowledgement_task_per_chunk_of_new_orders(
    store, walmart_api, api_base, listed_product, order_settings, settings, django_capture_on_commit_callbacks
):
    # given: 120 new orders of two lines each (the acknowledgement chunk is 50 orders)
    remotes = [WalmartOrder.from_api(order_json(f"PO-{n}", lines=[line_json("1"), line_json("2")])) for n in range(120)]
    # when: taken in (the queued tasks are collected, not run)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        orders_upsert_from_walmart(store=store, remotes=remotes, actor="schedule")
    # then: three acknowledgement tasks (50 + 50 + 20 orders, in the order stored), not one per order or line
    enqueued = [
        inspect.getclosurevars(callback).nonlocals
        for callback in callbacks
        if callback.__qualname__ == "enqueue_on_commit.<locals>.<lambda>"
    ]
    assert [(sent["task"], len(sent["args"][0])) for sent in enqueued] == [(orders_acknowledge_task, 50)] * 2 + [
        (orders_acknowledge_task, 20)
    ]
    stored = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    assert [pk for sent in enqueued for pk in sent["args"][0]] == stored


def test_an_outage_while_storing_an_answer_hands_the_rest_of_the_batch_on_without_acknowledging_twice(
    store, walmart_api, api_base, listed_product, order_settings, monkeypatch
):
    from django.db import OperationalError

    from orders.services import acknowledge

    # given: two new orders; Walmart acknowledges both, and shows PO-1 acknowledged when read back
    OrderSettings.objects.filter(pk=order_settings.pk).update(auto_acknowledge=False)
    remotes = {po: order_json(po, lines=[line_json()]) for po in ("PO-1", "PO-2")}
    orders_upsert_from_walmart(
        store=store, remotes=[WalmartOrder.from_api(remote) for remote in remotes.values()], actor="schedule"
    )
    pks = [Order.objects.get(purchase_order_id=po).pk for po in remotes]
    for po, remote in remotes.items():
        walmart_api.add(responses.POST, f"{api_base}/v3/orders/{po}/acknowledge", json={"order": acknowledged(remote)})
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/PO-1", json={"order": acknowledged(remotes["PO-1"])})
    # and: the database fails while PO-1's answer is stored
    real = acknowledge.order_upsert_from_walmart
    failures = []

    def database_gone_once(**kwargs):
        if not failures:
            failures.append(kwargs["remote"].purchase_order_id)
            raise OperationalError("terminating connection due to administrator command")
        return real(**kwargs)

    monkeypatch.setattr(acknowledge, "order_upsert_from_walmart", database_gone_once)
    # when (the task the batch hands on runs at once here)
    with after_commit():
        orders_acknowledge_task.apply(args=[pks])
    # then: both acknowledged, each acknowledged once on Walmart; PO-1 recorded from the read-back
    assert failures == ["PO-1"]
    assert set(Order.objects.values_list("acknowledged_at", flat=True)) != {None}
    assert Order.objects.filter(acknowledged_at__isnull=True).count() == 0
    calls = {po: len(calls_to(walmart_api, "POST", f"/v3/orders/{po}/acknowledge")) for po in remotes}
    assert calls == {"PO-1": 1, "PO-2": 1}
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1


@pytest.mark.parametrize(("slice_seconds", "runs"), [(0.0, 3), (60.0, 1)])
def test_a_chunk_hands_the_rest_to_the_back_of_the_queue_after_its_time_slice(
    store, walmart_api, api_base, listed_product, order_settings, monkeypatch, slice_seconds, runs
):
    from celery.signals import task_prerun

    from orders import tasks

    # given: three new orders Walmart acknowledges
    OrderSettings.objects.filter(pk=order_settings.pk).update(auto_acknowledge=False)
    remotes = {po: order_json(po, lines=[line_json()]) for po in ("PO-1", "PO-2", "PO-3")}
    orders_upsert_from_walmart(
        store=store, remotes=[WalmartOrder.from_api(remote) for remote in remotes.values()], actor="schedule"
    )
    pks = [Order.objects.get(purchase_order_id=po).pk for po in remotes]
    for po, remote in remotes.items():
        walmart_api.add(responses.POST, f"{api_base}/v3/orders/{po}/acknowledge", json={"order": acknowledged(remote)})
    monkeypatch.setattr(tasks, "ACKNOWLEDGE_SLICE_SECONDS", slice_seconds)
    started = []

    def count(sender=None, **kwargs):
        if getattr(sender, "name", "") == orders_acknowledge_task.name:
            started.append(list(kwargs["args"][0]))

    task_prerun.connect(count)
    try:
        # when
        orders_acknowledge_task.apply(args=[pks])
    finally:
        task_prerun.disconnect(count)
    # then: with a spent slice every order after the first went to a new task (the queue's other work first);
    # each order acknowledged once either way
    assert len(started) == runs
    assert started[0] == pks
    assert Order.objects.filter(acknowledged_at__isnull=True).count() == 0
    assert [len(calls_to(walmart_api, "POST", f"/v3/orders/{po}/acknowledge")) for po in remotes] == [1, 1, 1]


def test_the_sweep_hands_orders_still_to_acknowledge_to_chunk_tasks_not_one_task_each(
    store, walmart_api, api_base, listed_product, order_settings, monkeypatch
):
    from datetime import timedelta

    from celery.signals import task_prerun
    from django.utils import timezone

    from channel_manager.work import sweep_all
    from orders import tasks
    from orders.tasks import order_acknowledge_task

    monkeypatch.setattr(tasks, "ACKNOWLEDGE_SLICE_SECONDS", 600.0)  # whole chunks, however slow this machine

    # given: 120 new orders whose acknowledgement tasks were lost (nothing ran after the intake's commit)
    remotes = {f"PO-{n}": order_json(f"PO-{n}", lines=[line_json()]) for n in range(120)}
    orders_upsert_from_walmart(
        store=store, remotes=[WalmartOrder.from_api(remote) for remote in remotes.values()], actor="schedule"
    )
    for po, remote in remotes.items():
        walmart_api.add(responses.POST, f"{api_base}/v3/orders/{po}/acknowledge", json={"order": acknowledged(remote)})
    started = []

    def count(sender=None, **kwargs):
        started.append((getattr(sender, "name", ""), len(kwargs["args"][0]) if kwargs["args"] else 0))

    task_prerun.connect(count)
    try:
        # when: the sweep runs past their deadline
        counts = sweep_all(now=timezone.now() + timedelta(minutes=5))
    finally:
        task_prerun.disconnect(count)
    # then: three chunk tasks (50 + 50 + 20, oldest first), none per order; each order acknowledged once
    assert counts["orders.acknowledgement"] == 120
    acknowledging = [
        size for name, size in started if name in (orders_acknowledge_task.name, order_acknowledge_task.name)
    ]
    assert [name for name, _ in started if name == order_acknowledge_task.name] == []
    assert acknowledging == [50, 50, 20]
    assert Order.objects.filter(acknowledged_at__isnull=True).count() == 0
    assert {len(calls_to(walmart_api, "POST", f"/v3/orders/{po}/acknowledge")) for po in remotes} == {1}
