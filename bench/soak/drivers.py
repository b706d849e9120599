"""The load: customers on Walmart and operators in the dashboard, each a thread working at a set rate.

- Customers (the emulator's own services, like Walmart's marketplace): place orders of 1-3 random offers
  (up to 3 units a line), and return shipped units (the emulator creates the return).
- Catalog managers (the dashboard's product form over HTTP): change a product's quantity or price.
- Operators (the dashboard's forms over HTTP): for each acknowledged order a fate drawn once: ship it all,
  ship one unit then the rest, cancel one line (or one unit of it) then ship the rest, cancel the whole
  order, or leave it open; for each return, refund it all or one unit then the rest.

Every form post is journaled with its outcome. A post answered with an error page is checked against the
database: if the work was saved anyway, the operator was told "error" for saved work (a failure: they would
submit it again).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import close_old_connections, connection

from bench.soak.dashboard import Dashboard, DashboardError, Posted

logger = logging.getLogger("soak")
CARRIER = "UPS"
CANCEL_REASON = "SELLER_CANCEL_OUT_OF_STOCK"
FATES = (
    ("ship_all", 0.45),
    ("ship_split", 0.15),
    ("cancel_line", 0.10),
    ("cancel_all", 0.07),
    ("open", 0.23),
)
FOLLOW_UP_SECONDS = (10.0, 40.0)


@dataclass
class Journal:
    """What the drivers did, shared by the threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter = field(default_factory=Counter)
    saved_but_error: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def posted(self, kind: str, posted: Posted, *, saved_anyway: bool | None = None, **detail: Any) -> None:
        with self.lock:
            self.counts[f"{kind}.{posted.outcome}"] += 1
            if posted.outcome == "error" and saved_anyway:
                self.counts[f"{kind}.saved_but_error"] += 1
                self.saved_but_error.append(
                    {"kind": kind, "at": _clock(), "status": posted.status, "message": _first_line(posted), **detail}
                )
            elif posted.outcome != "saved" and len(self.samples) < 200:
                self.samples.append(
                    {
                        "kind": kind,
                        "at": _clock(),
                        "outcome": posted.outcome,
                        "status": posted.status,
                        "message": _first_line(posted),
                        **detail,
                    }
                )


def _clock() -> str:
    return time.strftime("%H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"


def _first_line(posted: Posted) -> str:
    """A short message: the error page's title, or the form's errors."""
    text = posted.message
    if "<title>" in text:
        text = text.split("<title>", 1)[1].split("</title>", 1)[0]
    return " ".join(text.split())[:200]


class Driver(threading.Thread):
    """A thread doing `step()` every `interval` seconds until stopped; exceptions are journaled, never fatal."""

    def __init__(self, name: str, *, interval: float, journal: Journal, stop: threading.Event, seed: int) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.journal = journal
        self.stop_event = stop
        self.rng = random.Random(seed)

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            close_old_connections()
            try:
                self.step()
            except Exception as error:  # noqa: BLE001 - the load goes on; the journal shows it
                self.journal.count(f"{self.name}.exception.{type(error).__name__}")
                logger.debug("%s: %s", self.name, error, exc_info=True)
            next_at += self.interval * self.rng.uniform(0.5, 1.5)
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - self.interval)
        connection.close()

    def step(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class SellerDriver(Driver):
    """A driver acting on Walmart's side for the soak's seller."""

    def __init__(self, name: str, *, seller_id: int, **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.seller_id = seller_id


class Customers(SellerDriver):
    """Walmart customers placing orders (the emulator's customer simulator)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("customers", **kwargs)

    def step(self) -> None:
        from walmart_emulator.models import Seller
        from walmart_emulator.orders import OrderSimulationError
        from walmart_emulator.services import order_simulate

        seller = Seller.objects.get(pk=self.seller_id)
        try:
            order_simulate(seller=seller, rng=self.rng)
        except OrderSimulationError:
            self.journal.count("orders.no_stock")
            return
        except Exception as error:  # noqa: BLE001 - the order is committed; the webhook's task could not be queued
            self.journal.count(f"orders.placed_webhook_not_queued.{type(error).__name__}")
            return
        self.journal.count("orders.placed")


class WalmartDeliveries(SellerDriver):
    """Walmart's side of webhook delivery: Walmart keeps its events until delivered, whatever happens to the
    product's Redis. The emulator sends each delivery with a task on the soak's broker; when that task was
    lost (the Redis fault) or never queued, this re-queues the delivery once its next attempt is overdue by
    30 s (the emulator's own attempt then runs and records itself; a delivery sent twice has one event id)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("walmart-deliveries", **kwargs)
        self.requeued: dict[int, float] = {}

    def step(self) -> None:
        from datetime import timedelta

        from django.conf import settings

        from walmart_emulator.clock import emulator_now
        from walmart_emulator.models import WebhookDelivery
        from walmart_emulator.tasks import webhook_delivery_send_task

        base = float(getattr(settings, "WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS", 30))
        now = emulator_now()
        pending = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, subscription__seller_id=self.seller_id
        ).values_list("pk", "created_at", "attempts")
        for pk, created, attempts in pending:
            overdue = created + timedelta(seconds=base * (2**attempts - 1) + 30)
            if now < overdue or time.monotonic() - self.requeued.get(pk, -1e9) < 60:
                continue
            webhook_delivery_send_task.delay(pk)
            self.requeued[pk] = time.monotonic()
            self.journal.count("walmart.webhook_delivery_requeued")


class Returns(SellerDriver):
    """Walmart customers returning shipped units (the emulator creates the return)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("returns", **kwargs)

    def step(self) -> None:
        from walmart_emulator.models import LineStatus, Seller
        from walmart_emulator.returns import ReturnSimulationError
        from walmart_emulator.services import return_simulate

        seller = Seller.objects.get(pk=self.seller_id)
        purchase_orders = list(
            LineStatus.objects.filter(
                line__order__seller=seller, status=LineStatus.Status.SHIPPED, line__return_lines__isnull=True
            )
            .values_list("line__order__purchase_order_id", flat=True)
            .distinct()[:200]
        )
        if not purchase_orders:
            return
        try:
            return_simulate(seller=seller, purchase_order_id=self.rng.choice(purchase_orders), rng=self.rng)
        except ReturnSimulationError:
            return
        self.journal.count("returns.created")


class CatalogManager(Driver):
    """Changes a product's quantity (70 %, a twentieth of them to zero) or price through the product form."""

    def __init__(self, name: str, *, dashboard: Dashboard, product_ids: list[int], **kwargs) -> None:
        super().__init__(name, **kwargs)
        self.dashboard = dashboard
        self.product_ids = product_ids

    def step(self) -> None:
        from listings.models import Product

        product_id = self.rng.choice(self.product_ids)
        path = f"/catalog/{product_id}/edit/"
        try:
            form, url = self.dashboard.form(path, field="sku")
        except (DashboardError, OSError) as error:
            self.journal.count(f"catalog.page_error.{type(error).__name__}")
            return
        if self.rng.random() < 0.7:
            field_name = "quantity"
            value = "0" if self.rng.random() < 0.05 else str(self.rng.randint(3, 40))
        else:
            field_name = "price"
            value = str(Decimal(self.rng.randint(500, 5000)) / 100)
        before = form.values().get(field_name)
        posted = self.dashboard.submit(form, url, {field_name: value})
        saved_anyway = None
        if posted.outcome == "error" and before != value:
            # Only a change tells: a post of the value the product already had "saved" nothing either way.
            current = Product.objects.filter(pk=product_id).values_list(field_name, flat=True).first()
            saved_anyway = str(current) == value
        self.journal.posted("catalog", posted, saved_anyway=saved_anyway, product_id=product_id, field=field_name)


class Operators(Driver):
    """The order desk: ships, cancels and refunds through the dashboard's forms (see the module docstring)."""

    def __init__(self, *, dashboard: Dashboard, store_id: int, since, plan: dict, plan_lock: threading.Lock,
                 tracking_prefix: str, name: str = "operators", **kwargs) -> None:  # fmt: skip
        super().__init__(name, **kwargs)
        self.dashboard = dashboard
        self.store_id = store_id
        self.since = since
        self.plan = plan  # shared by the operator threads: order/return key -> planned steps
        self.plan_lock = plan_lock
        self.tracking_prefix = tracking_prefix
        self.tracking_number = 0

    # -- planning --

    def _draw_fate(self) -> str:
        roll, total = self.rng.random(), 0.0
        for fate, share in FATES:
            total += share
            if roll < total:
                return fate
        return FATES[-1][0]

    def _plan_new(self) -> None:
        from orders.models import Order
        from returns.models import Return

        orders = Order.objects.filter(
            store_id=self.store_id, acknowledged_at__isnull=False, created_at__gte=self.since
        ).values_list("pk", flat=True)
        returns = Return.objects.filter(store_id=self.store_id, created_at__gte=self.since).values_list("pk", flat=True)
        now = time.monotonic()
        with self.plan_lock:
            for order_id in orders:
                key = ("order", order_id)
                if key not in self.plan:
                    fate = self._draw_fate()
                    first = {
                        "ship_all": ("ship", "all"),
                        "ship_split": ("ship", "one_unit"),
                        "cancel_line": ("cancel", "one_line"),
                        "cancel_all": ("cancel", "all"),
                    }.get(fate)
                    self.plan[key] = {"fate": fate, "steps": [(now, *first)] if first else [], "busy": False}
            for return_id in returns:
                key = ("return", return_id)
                if key not in self.plan:
                    mode = "one_unit" if self.rng.random() < 0.3 else "all"
                    self.plan[key] = {"fate": f"refund_{mode}", "steps": [(now, "refund", mode)], "busy": False}

    def _take_due(self) -> tuple[tuple, tuple] | None:
        now = time.monotonic()
        with self.plan_lock:
            for key, entry in self.plan.items():
                if entry["busy"] or not entry["steps"] or entry["steps"][0][0] > now:
                    continue
                entry["busy"] = True
                return key, entry["steps"].pop(0)
        return None

    def _then(self, key: tuple, *step: str) -> None:
        with self.plan_lock:
            delay = self.rng.uniform(*FOLLOW_UP_SECONDS)
            self.plan[key]["steps"].append((time.monotonic() + delay, *step))

    def _retry_later(self, key: tuple, step: tuple) -> None:
        with self.plan_lock:
            self.plan[key]["steps"].insert(0, (time.monotonic() + self.rng.uniform(5, 15), *step[1:]))

    def step(self) -> None:
        self._plan_new()
        due = self._take_due()
        if due is None:
            return
        key, step = due
        try:
            done = self._act(key, step)
            if not done:
                self._retry_later(key, step)
        except (DashboardError, OSError) as error:
            self.journal.count(f"operators.page_error.{type(error).__name__}")
            self._retry_later(key, step)
        finally:
            with self.plan_lock:
                self.plan[key]["busy"] = False

    # -- actions --

    def _act(self, key: tuple, step: tuple) -> bool:
        """One step; False when it should be tried again later (nothing saved)."""
        _, action, mode = step
        if action == "refund":
            return self._refund(key, key[1], mode)
        path = f"/stores/{self.store_id}/orders/{key[1]}/{action}/"
        form, url = self.dashboard.form(path, form_id="ship-form" if action == "ship" else None, field="reason"
                                        if action == "cancel" else None)  # fmt: skip
        quantities = {
            name: int(value or 0) for name, value in form.fields if name.startswith("quantity_") and int(value or 0) > 0
        }
        if not quantities:
            self.journal.count(f"{action}.nothing_left")
            return True
        chosen = self._choose(quantities, mode)
        changes = {name: str(chosen.get(name, 0)) for name in quantities}
        started = time.time()
        if action == "ship":
            self.tracking_number += 1
            tracking = f"{self.tracking_prefix}{self.name[-1]}{self.tracking_number:06d}"
            changes.update(carrier=CARRIER, tracking_number=tracking)
            posted = self.dashboard.submit(form, url, changes)
            saved_anyway = None
            if posted.outcome == "error":
                saved_anyway = self._saved("ship", key[1], started, tracking=tracking)
            self.journal.posted("ship", posted, saved_anyway=saved_anyway, order_id=key[1], tracking=tracking)
        else:
            changes["reason"] = CANCEL_REASON
            posted = self.dashboard.submit(form, url, changes)
            saved_anyway = self._saved("cancel", key[1], started) if posted.outcome == "error" else None
            self.journal.posted("cancel", posted, saved_anyway=saved_anyway, order_id=key[1], mode=mode)
        if posted.outcome != "saved" and not saved_anyway:
            return False
        if mode in ("one_unit", "one_line"):
            self._then(key, "ship", "all")
        return True

    def _choose(self, quantities: dict[str, int], mode: str) -> dict[str, int]:
        if mode == "all":
            return dict(quantities)
        names = sorted(quantities)
        several = [name for name in names if quantities[name] >= 2]
        if mode == "one_unit":
            return {(several or names)[0]: 1}
        # one_line: one unit of a line holding several, else one whole line of several lines
        if several:
            return {several[0]: 1}
        return {names[0]: quantities[names[0]]}

    def _refund(self, key: tuple, return_id: int, mode: str) -> bool:
        path = f"/stores/{self.store_id}/returns/{return_id}/"
        found = self.dashboard.form_unless(path, form_id="refund-form", unless="nothing-to-refund")
        if found is None:  # refunded meanwhile (by Walmart, or by another operator): nothing to do
            self.journal.count("refund.nothing_left")
            return True
        form, url = found
        quantities = {
            name: int(value or 0) for name, value in form.fields if name.startswith("quantity_") and int(value or 0) > 0
        }
        if not quantities:
            self.journal.count("refund.nothing_left")
            return True
        chosen = self._choose(quantities, mode)
        changes = {name: str(chosen.get(name, 0)) for name in quantities}
        started = time.time()
        posted = self.dashboard.submit(form, url, changes)
        saved_anyway = self._saved("refund", return_id, started) if posted.outcome == "error" else None
        self.journal.posted("refund", posted, saved_anyway=saved_anyway, return_id=return_id, mode=mode)
        if posted.outcome != "saved" and not saved_anyway:
            return False
        if mode == "one_unit":
            self._then(key, "refund", "all")
        return True

    @staticmethod
    def _saved(kind: str, pk: int, started: float, *, tracking: str = "") -> bool:
        """After an error page: was the intent saved anyway?"""
        from datetime import UTC, datetime

        from orders.models import Cancellation, Shipment
        from returns.models import Refund

        since = datetime.fromtimestamp(started - 1, tz=UTC)
        if kind == "ship":
            return Shipment.objects.filter(order_id=pk, tracking_number=tracking).exists()
        if kind == "cancel":
            return Cancellation.objects.filter(order_id=pk, created_at__gte=since).exists()
        return Refund.objects.filter(return_order_id=pk, created_at__gte=since).exists()
