"""Reads Walmart's truth (the emulator's tables, its inventory API and the soak's request log) and the
product's rows, and runs the comparisons of bench.soak.checks over them. Every failing key comes with
what the owner needs to fix it: the product's rows (ids, status, attempts, error, times) and the request
log entries of that order or return.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.soak import checks, requestlog
from bench.soak.checks import CheckResult

MAX_FINDINGS = 40
SLOWEST = 10  # the slowest samples named in a latency figure
BULKY_CHARS = 300


@dataclass(frozen=True)
class Scope:
    store_id: int
    seller_id: int
    client_id: str
    client_secret: str
    emulator_base_url: str
    request_log_dir: Path
    semantics: str  # checks.INPUT_QTY or checks.AVAIL_TO_SELL_QTY (from the probe)
    since: float  # epoch seconds the load started


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _iso(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value).astimezone().isoformat(timespec="milliseconds")


def _cap(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(findings) <= MAX_FINDINGS:
        return findings
    return [*findings[:MAX_FINDINGS], {"more": len(findings) - MAX_FINDINGS}]


class Evidence:
    """The request log, indexed by (kind, key), read once per evaluation."""

    def __init__(self, directory: Path) -> None:
        self.entries = requestlog.read_entries(directory)
        self.by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for entry in self.entries:
            self.by_key[(entry.get("kind"), entry.get("key"))].append(entry)

    def of(self, kind: str, key: str) -> list[dict[str, Any]]:
        return [requestlog.entry_brief(entry) for entry in self.by_key.get((kind, key), [])]

    def summary(self) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        for entry in self.entries:
            status = "lost" if entry.get("answer_lost") else str(entry.get("status"))
            counts[f"{entry.get('kind')} {status}"] += 1
        return dict(sorted(counts.items()))


# --- product rows ------------------------------------------------------------------------------------


def _intent_rows(model, *, store_id: int, order_path: str) -> list[dict[str, Any]]:
    fields = [f.name for f in model._meta.concrete_fields]
    wanted = [
        name
        for name in (
            "id",
            "status",
            "attempts",
            "error",
            "created_at",
            "sent_at",
            "request_maybe_applied",
            "next_attempt_at",
            "claimed_until",
            "correlation_id",
            "tracking_number",
        )
        if name in fields
    ]
    extra = [name for name in fields if "flight" in name or "attempt_id" in name]
    rows = model.objects.filter(**{f"{order_path}__store_id": store_id}).values(*wanted, *extra)
    return list(rows)


def _status_sets(model) -> tuple[set[str], set[str], set[str]]:
    members = {member.name: member.value for member in model.Status}
    return checks.status_split(members)


def _row_brief(row: dict[str, Any]) -> dict[str, Any]:
    """A row for the JSON: times as ISO text, and a bulky value (a feed's payload, a stored answer) as its
    first characters and size, so the findings stay readable."""
    brief = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = value.isoformat(timespec="milliseconds")
        elif isinstance(value, dict | list | str) and len(text := str(value)) > BULKY_CHARS:
            value = f"{text[:BULKY_CHARS]}... ({len(text)} characters)"
        brief[key] = value
    return brief


# --- the checks --------------------------------------------------------------------------------------


def check_orders(scope: Scope, evidence: Evidence, *, now: float) -> CheckResult:
    from orders.models import Order, OrderSettings, WebhookEvent
    from walmart_emulator.models import Order as WalmartOrder
    from walmart_emulator.models import WebhookDelivery

    placed = {
        po: _ts(date)
        for po, date in WalmartOrder.objects.filter(seller_id=scope.seller_id).values_list(
            "purchase_order_id", "order_date"
        )
    }
    product = list(Order.objects.filter(store_id=scope.store_id).values_list("purchase_order_id", flat=True))
    interval, polled_through = (
        OrderSettings.objects.filter(store_id=scope.store_id)
        .values_list("poll_interval_seconds", "polled_through")
        .first()
    ) or (300, None)
    grace = interval + 60
    result = checks.orders_compare(
        walmart_placed=placed, product_orders=product, now=now, grace_seconds=grace, polled_through=_ts(polled_through)
    )
    findings = []
    for po in result.missing:
        findings.append(
            {
                "problem": "on Walmart, not in the product",
                "purchase_order_id": po,
                "placed_at": _iso(placed[po]),
                "webhook_events_in_product": list(
                    WebhookEvent.objects.filter(store_id=scope.store_id, purchase_order_id=po).values(
                        "id", "event_type", "received_at", "processed_at", "error"
                    )
                ),
                "walmart_webhook_deliveries": list(
                    WebhookDelivery.objects.filter(body__contains=po).values(
                        "event_id", "status", "attempts", "last_status_code", "last_error"
                    )
                ),
            }
        )
    findings += [{"problem": "duplicated in the product", "purchase_order_id": po, "rows": n}
                 for po, n in result.duplicated.items()]  # fmt: skip
    findings += [{"problem": "in the product, not on Walmart", "purchase_order_id": po} for po in result.unknown]
    summary = (
        f"{len(placed)} on Walmart, {len(set(product))} in the product; {len(result.missing)} missing, "
        f"{len(result.duplicated)} duplicated, {len(result.unknown)} unknown"
    )
    if result.late:
        summary += f"; {len(result.late)} not in yet (placed < {grace} s ago and after the poll's watermark)"
    return CheckResult("orders: none lost or duplicated", result.passed, summary, _cap(_rows_json(findings)))


def _walmart_line_statuses(seller_id: int):
    from walmart_emulator.models import LineStatus

    return LineStatus.objects.filter(line__order__seller_id=seller_id).values_list(
        "line__order__purchase_order_id", "line__line_number", "status", "quantity", "tracking_number",
        "cancellation_reason",
    )  # fmt: skip


def check_acknowledgements(scope: Scope, evidence: Evidence) -> CheckResult:
    from orders.models import Order

    applied, unknown = requestlog.ack_counts(evidence.entries)
    rows = {
        row["purchase_order_id"]: row
        for row in Order.objects.filter(store_id=scope.store_id).values(
            "id", "purchase_order_id", "acknowledged_at", "acknowledging_since", "status", "created_at"
        )
    }
    shipped: Counter[str] = Counter()
    cancelled: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for po, _, status, quantity, _, _ in _walmart_line_statuses(scope.seller_id):
        total[po] += quantity
        if status in ("Shipped", "Delivered"):
            shipped[po] += quantity
        elif status == "Cancelled":
            cancelled[po] += quantity
    optional = {po for po in total if cancelled[po] == total[po] and not shipped[po]}
    result = checks.acks_compare(
        product_acknowledged={po: row["acknowledged_at"] is not None for po, row in rows.items()},
        applied=applied,
        unknown_outcome=unknown,
        optional=optional,
    )
    findings = []
    for problem, pos in (
        ("never acknowledged on Walmart", result.never),
        ("acknowledged on Walmart more than once", list(result.repeated)),
        ("acknowledged on Walmart, not recorded in the product", result.not_recorded),
    ):
        for po in pos:
            findings.append(
                {
                    "problem": problem,
                    "purchase_order_id": po,
                    "product_order": _row_brief(rows[po]) if po in rows else None,
                    "walmart_requests": evidence.of("ack", po),
                }
            )
    applied_once = sum(1 for po in rows if applied.get(po) == 1)
    summary = (
        f"{applied_once} of {len(rows)} orders acknowledged exactly once; {len(result.never)} never, "
        f"{len(result.repeated)} more than once ({sum(result.repeated.values())} acknowledgements), "
        f"{len(result.not_recorded)} not recorded"
    )
    if result.unknown_outcome:
        summary += f"; {len(result.unknown_outcome)} with an answer lost and an unknown outcome"
    return CheckResult("acknowledgements: exactly once each", result.passed, summary, _cap(_rows_json(findings)))


def _order_line_key(po: str, line_number: Any) -> tuple[str, str]:
    return (po, str(line_number))


def _intended(model, rows: Iterable[tuple[tuple, int, str, int]], *, dropped: str) -> tuple[Counter, dict]:
    """Units the operators asked for per key, from (key, units, the intent's status, the intent's id) rows,
    and which intents ask for each key. Intents in the `dropped` state (a discarded push, a refund Walmart
    made itself) ask for nothing."""
    skip = {getattr(model.Status, dropped)} if hasattr(model.Status, dropped) else set()
    intended: Counter = Counter()
    owners: dict[tuple, list[int]] = defaultdict(list)
    for key, quantity, status, intent_id in rows:
        if status not in skip:
            intended[key] += quantity
            owners[key].append(intent_id)
    return intended, owners


def check_shipments(scope: Scope, evidence: Evidence) -> CheckResult:
    from orders.models import Shipment, ShipmentLine

    _, _, failed = _status_sets(Shipment)
    lines = ShipmentLine.objects.filter(shipment__order__store_id=scope.store_id).values_list(
        "shipment__order__purchase_order_id", "line__line_number", "shipment__tracking_number", "quantity",
        "shipment__status", "shipment_id",
    )  # fmt: skip
    intended, owners = _intended(
        Shipment,
        (((po, str(number), tracking), units, status, pk) for po, number, tracking, units, status, pk in lines),
        dropped="DISCARDED",
    )
    applied: Counter = Counter()
    for po, line_number, status, quantity, tracking, _ in _walmart_line_statuses(scope.seller_id):
        if status in ("Shipped", "Delivered") and tracking:
            applied[(po, str(line_number), tracking)] += quantity
    result, rows, findings = _quantities_outcome(
        Shipment, "order", scope, intended, owners, applied, evidence, kind="ship", unit="shipment line"
    )
    # A shipment Walmart holds whole, that the product shows failed: the operator sees an error for a parcel
    # that is on its way (and may ship it again).
    wrong_status = []
    for shipment_id, row in rows.items():
        keys = [key for key, ids in owners.items() if shipment_id in ids]
        if row["status"] in failed and keys and all(applied.get(key, 0) >= intended[key] for key in keys):
            wrong_status.append(shipment_id)
            findings.append(
                {
                    "problem": "Walmart shows the shipment, the product shows it failed",
                    "shipment": _row_brief(row),
                    "walmart_requests": evidence.of("ship", keys[0][0]),
                }
            )
    passed = result.passed and not wrong_status
    summary = (
        f"{result.matched} shipment lines applied exactly once; {len(result.doubled)} applied twice, "
        f"{len(result.lost)} lost; {len(wrong_status)} shown failed though Walmart has them "
        f"({len(rows)} shipments)"
    )
    return CheckResult("shipments: each line exactly once", passed, summary, _cap(_rows_json(findings)))


def check_cancellations(scope: Scope, evidence: Evidence) -> CheckResult:
    from orders.models import Cancellation, CancellationLine
    from walmart_emulator.orders import AUTO_CANCEL_REASON

    lines = CancellationLine.objects.filter(cancellation__order__store_id=scope.store_id).values_list(
        "cancellation__order__purchase_order_id", "line__line_number", "quantity", "cancellation__status",
        "cancellation_id",
    )  # fmt: skip
    intended, owners = _intended(
        Cancellation,
        ((_order_line_key(po, number), units, status, pk) for po, number, units, status, pk in lines),
        dropped="DISCARDED",
    )
    applied: Counter = Counter()
    for po, line_number, status, quantity, _, reason in _walmart_line_statuses(scope.seller_id):
        if status == "Cancelled" and reason != AUTO_CANCEL_REASON:
            applied[_order_line_key(po, line_number)] += quantity
    result, rows, findings = _quantities_outcome(
        Cancellation, "order", scope, intended, owners, applied, evidence, kind="cancel", unit="order line"
    )
    summary = (
        f"{result.matched} order lines with cancelled units applied exactly once; {len(result.doubled)} cancelled "
        f"more than asked, {len(result.lost)} less ({len(rows)} cancellations)"
    )
    return CheckResult("cancellations: each line exactly once", result.passed, summary, _cap(_rows_json(findings)))


def check_refunds(scope: Scope, evidence: Evidence) -> CheckResult:
    from returns.models import Refund, RefundLine
    from walmart_emulator.models import ReturnLine as WalmartReturnLine

    lines = RefundLine.objects.filter(refund__return_order__store_id=scope.store_id).values_list(
        "refund__return_order__return_order_id", "return_line__return_order_line_number", "quantity",
        "refund__status", "refund_id",
    )  # fmt: skip
    intended, owners = _intended(
        Refund,
        (((rma, int(number)), units, status, pk) for rma, number, units, status, pk in lines),
        dropped="CANCELLED",
    )
    applied: Counter = Counter()
    for rma, number, refunded in WalmartReturnLine.objects.filter(return_order__seller_id=scope.seller_id).values_list(
        "return_order__return_order_id", "return_order_line_number", "refunded_quantity"
    ):
        if refunded:
            applied[(rma, int(number))] += refunded
    result, rows, findings = _quantities_outcome(
        Refund, "return_order", scope, intended, owners, applied, evidence, kind="return_refund", unit="return line"
    )
    summary = (
        f"{result.matched} return lines refunded exactly as asked; {len(result.doubled)} refunded more, "
        f"{len(result.lost)} less ({len(rows)} refunds)"
    )
    return CheckResult("refunds: each line exactly once", result.passed, summary, _cap(_rows_json(findings)))


def _quantities_outcome(model, order_path: str, scope: Scope, intended, owners, applied, evidence: Evidence, *,
                        kind: str, unit: str):  # fmt: skip
    """Compare the units asked for with the units applied; (comparison, the intent rows by id, findings: per
    key, what was asked and applied, the product's rows and Walmart's requests for that order / return)."""
    result = checks.quantities_compare(intended=intended, applied=applied)
    rows = {row["id"]: row for row in _intent_rows(model, store_id=scope.store_id, order_path=order_path)}
    findings = []
    for problem, items in (("applied more than asked", result.doubled), ("applied less than asked", result.lost)):
        for key, (wanted, done) in items.items():
            findings.append(
                {
                    "problem": f"{unit} {problem}",
                    "key": list(key),
                    "asked": wanted,
                    "walmart_applied": done,
                    "product_rows": [_row_brief(rows[pk]) for pk in owners.get(key, []) if pk in rows],
                    "walmart_requests": evidence.of(kind, key[0]),
                }
            )
    return result, rows, findings


def _desired_values_function():
    """The product's own "what Walmart should show" per listing: `sync_rows(store=, stream=)` of the sync
    engine (`sync.selectors`, or `inventory.selectors` before the sync app was carved out)."""
    from django.apps import apps

    for app_label, module_name in (("sync", "sync.selectors"), ("inventory", "inventory.selectors")):
        if not apps.is_installed(app_label) or importlib.util.find_spec(module_name) is None:
            continue
        function = getattr(importlib.import_module(module_name), "sync_rows", None)
        if function is not None:
            return function, module_name
    raise LookupError("no sync_rows(store=, stream=) in sync.selectors or inventory.selectors")


def walmart_inventory(scope: Scope) -> dict[str, dict[str, int | None]]:
    """Walmart's quantities per SKU through its own API (`GET /v3/inventories`)."""
    from bench.soak.world import walmart_client

    client = walmart_client(
        base_url=scope.emulator_base_url, client_id=scope.client_id, client_secret=scope.client_secret
    )
    return {
        inventory.sku: {
            checks.INPUT_QTY: inventory.quantity,
            checks.AVAIL_TO_SELL_QTY: inventory.available_to_sell,
            "reservedQty": inventory.reserved,
        }
        for inventory in client.inventory.iter_all()
    }


def check_listings(scope: Scope) -> list[CheckResult]:
    from channel_manager.models import Store
    from listings.models import Listing
    from walmart_emulator.models import Offer

    store = Store.objects.get(pk=scope.store_id)
    try:
        sync_rows, source = _desired_values_function()
        desired_quantity = {row.sku: row.desired for row in sync_rows(store=store, stream="inventory")}
        desired_price = {row.sku: row.desired for row in sync_rows(store=store, stream="price")}
    except Exception as error:  # noqa: BLE001 - reported as a failed check, never a silent pass
        text = f"the product's desired values could not be read: {type(error).__name__}: {error}"
        return [CheckResult("listings: quantity and price as the product wants", False, text)]
    try:
        walmart = walmart_inventory(scope)
    except Exception as error:  # noqa: BLE001
        text = f"Walmart's inventory could not be read: {type(error).__name__}: {error}"
        return [CheckResult("listings: quantity and price as the product wants", False, text)]
    prices = dict(Offer.objects.filter(seller_id=scope.seller_id).values_list("sku", "price"))
    listings = {
        row["product__sku"]: row
        for row in Listing.objects.filter(store=store, product__sku__in=list(desired_quantity)).values(
            "id", "product__sku", "product__quantity", "product__price", "confirmed_quantity", "confirmed_price",
            "status", "inventory_error", "price_error",
        )
    }  # fmt: skip
    quantity = checks.listings_compare(
        product=desired_quantity, walmart={sku: node.get(scope.semantics) for sku, node in walmart.items()}
    )
    # What a customer can buy on Walmart against what the product has available: the same under both
    # inventory semantics once converged, with no buffer or cap (the soak's store has none).
    sellable = checks.listings_compare(
        product={sku: row["product__quantity"] for sku, row in listings.items()},
        walmart={sku: node.get(checks.AVAIL_TO_SELL_QTY) for sku, node in walmart.items()},
    )
    price = checks.listings_compare(product=desired_price, walmart=prices)

    def findings(comparison, field: str) -> list[dict[str, Any]]:
        items = [
            {"sku": sku, "product": str(wanted), "walmart": str(held), "walmart_inventory": walmart.get(sku),
             "listing": _row_brief(listings.get(sku, {}))}
            for sku, (wanted, held) in comparison.differ.items()
        ]  # fmt: skip
        items += [{"sku": sku, "problem": f"no {field} on Walmart"} for sku in comparison.missing_on_walmart]
        return _cap(_rows_json(items))

    def believed(comparison, confirmed_field: str) -> str:
        """How many differing listings the product holds as confirmed by Walmart at the value it wants (so
        its planner sends nothing more: stuck, not just late)."""
        count = sum(
            1
            for sku, (wanted, _) in comparison.differ.items()
            if sku in listings and listings[sku][confirmed_field] == wanted
        )
        return f"; {count} of the {len(comparison.differ)} differing held as confirmed at that value" if count else ""

    word = "inputQty (all units, sold and not shipped included)" if scope.semantics == checks.INPUT_QTY else (
        "availToSellQty (what Walmart's PUT sets on this emulator)")  # fmt: skip
    return [
        CheckResult(
            "listings: quantity as the product wants",
            quantity.passed,
            f"{quantity.compared - len(quantity.differ)} of {quantity.compared} equal; desired values from "
            f"{source}.sync_rows compared with Walmart's {word}{believed(quantity, 'confirmed_quantity')}",
            findings(quantity, "quantity"),
        ),
        CheckResult(
            "listings: sellable on Walmart = available here",
            sellable.passed,
            f"{sellable.compared - len(sellable.differ)} of {sellable.compared} equal (Walmart's availToSellQty "
            "against the product's available quantity)",
            findings(sellable, "quantity"),
        ),
        CheckResult(
            "listings: price as the product wants",
            price.passed,
            f"{price.compared - len(price.differ)} of {price.compared} equal{believed(price, 'confirmed_price')}",
            findings(price, "price"),
        ),
    ]


def _durable_models() -> Iterable[tuple[Any, str]]:
    """(model, how its unfinished rows are found): every push intent (subclasses of the core's PushIntent),
    the single-update ledger and the feed ledger (by status), webhook events (not processed)."""
    from django.apps import apps

    from channel_manager.intents import PushIntent

    for model in apps.get_models():
        if model._meta.app_label == "walmart_emulator":
            continue
        if issubclass(model, PushIntent) or model.__name__ in ("ItemUpdate", "Feed"):
            if hasattr(model, "Status") and any(f.name == "status" for f in model._meta.concrete_fields):
                yield model, "status"
        elif model.__name__ == "WebhookEvent":
            yield model, "processed_at"


def check_unfinished(scope: Scope) -> CheckResult:
    """Nothing left in a non-final state: intents, ledgers, webhook events, acknowledgements under way."""
    from django.db.models import Q

    from orders.models import Order

    findings = []
    counts: dict[str, int] = {}
    for model, how in _durable_models():
        label = model._meta.label
        store_field = next((name for name in ("store_id", "order__store_id", "return_order__store_id")
                            if _has_path(model, name)), None)  # fmt: skip
        queryset = model.objects.all()
        if store_field:
            queryset = queryset.filter(**{store_field: scope.store_id})
        if how == "status":
            nonfinal, _, _ = _status_sets(model)
            queryset = queryset.filter(status__in=nonfinal)
        else:
            queryset = queryset.filter(processed_at__isnull=True)
        count = queryset.count()
        counts[label] = count
        if count:
            findings.append(
                {"model": label, "unfinished": count,
                 "rows": [_row_brief(row) for row in queryset.order_by("pk").values()[:10]]}
            )  # fmt: skip
    # An acknowledgement under way (claimed) or maybe applied (in flight, answer not stored) and never resolved.
    unresolved = Q(acknowledging_since__isnull=False)
    fields = ["id", "purchase_order_id", "acknowledged_at", "acknowledging_since"]
    if _has_path(Order, "acknowledge_maybe_applied"):
        unresolved |= Q(acknowledge_maybe_applied=True, acknowledged_at__isnull=True)
        fields.append("acknowledge_maybe_applied")
    under_way = Order.objects.filter(unresolved, store_id=scope.store_id)
    counts["orders.Order (acknowledgement under way)"] = under_way.count()
    if counts["orders.Order (acknowledgement under way)"]:
        findings.append(
            {"model": "orders.Order", "problem": "acknowledgement under way or maybe applied, unresolved",
             "rows": [_row_brief(row) for row in under_way.values(*fields)[:10]]}
        )  # fmt: skip
    total = sum(counts.values())
    summary = "none" if not total else ", ".join(f"{label} {n}" for label, n in counts.items() if n)
    return CheckResult("nothing left unfinished", total == 0, summary, _cap(_rows_json(findings)))


def _has_path(model, path: str) -> bool:
    name, _, rest = path.partition("__")
    try:
        field = model._meta.get_field(name.removesuffix("_id") if not rest else name)
    except Exception:  # noqa: BLE001 - FieldDoesNotExist
        return False
    if not rest:
        return True
    return field.related_model is not None and _has_path(field.related_model, rest)


def check_saved_but_error(journal) -> CheckResult:
    items = list(journal.saved_but_error)
    by_kind = Counter(item["kind"] for item in items)
    summary = "none" if not items else ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items()))
    return CheckResult("operators never told 'error' for saved work", not items, summary, _cap(_rows_json(items)))


# --- figures -------------------------------------------------------------------------------------------


def latencies(scope: Scope, *, window: tuple[float, float], phases: list[tuple[str, float, float]]) -> dict[str, Any]:
    """Order intake (placed on Walmart -> the order row in the product) and intent -> Sent (shipments,
    cancellations, refunds), for what was placed / saved during the fault phases (also per phase, with the
    slowest rows named), and over the whole run."""
    from orders.models import Cancellation, Order, Shipment
    from returns.models import Refund
    from walmart_emulator.models import Order as WalmartOrder

    def during(at: float) -> bool:
        return window[0] <= at <= window[1]

    placed = dict(WalmartOrder.objects.filter(seller_id=scope.seller_id).values_list("purchase_order_id", "order_date"))
    seen = dict(Order.objects.filter(store_id=scope.store_id).values_list("purchase_order_id", "created_at"))
    intake = [
        {"purchase_order_id": po, "at": date.timestamp(), "seconds": (seen[po] - date).total_seconds()}
        for po, date in placed.items()
        if po in seen
    ]
    intents, not_sent = [], 0
    for kind, model, path in (("shipment", Shipment, "order"), ("cancellation", Cancellation, "order"),
                              ("refund", Refund, "return_order")):  # fmt: skip
        for pk, created, sent, attempts in model.objects.filter(**{f"{path}__store_id": scope.store_id}).values_list(
            "pk", "created_at", "sent_at", "attempts"
        ):
            if sent is None:
                not_sent += 1
                continue
            intents.append({"kind": kind, "id": pk, "attempts": attempts, "at": created.timestamp(),
                            "seconds": (sent - created).total_seconds()})  # fmt: skip

    def slowest(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        top = sorted(samples, key=lambda sample: sample["seconds"], reverse=True)[:SLOWEST]
        return [{**sample, "at": _iso(sample["at"]), "seconds": round(sample["seconds"], 1),
                 "phase": checks.phase_at(sample["at"], phases)} for sample in top]  # fmt: skip

    intake_faults = [sample for sample in intake if during(sample["at"])]
    intents_faults = [sample for sample in intents if during(sample["at"])]
    return {
        "order_intake_during_faults": checks.latency_summary([sample["seconds"] for sample in intake_faults]),
        "order_intake_all": checks.latency_summary([sample["seconds"] for sample in intake]),
        "order_intake_by_phase": checks.latency_by_phase(((s["at"], s["seconds"]) for s in intake_faults), phases),
        "order_intake_slowest": slowest(intake_faults),
        "orders_not_in_product": len(placed) - len(intake),
        "intent_to_sent_during_faults": checks.latency_summary([sample["seconds"] for sample in intents_faults]),
        "intent_to_sent_all": checks.latency_summary([sample["seconds"] for sample in intents]),
        "intent_to_sent_by_phase": checks.latency_by_phase(((s["at"], s["seconds"]) for s in intents_faults), phases),
        "intent_to_sent_slowest": slowest(intents_faults),
        "intents_not_sent": not_sent,
    }


def tallies(scope: Scope) -> dict[str, int]:
    """How much there was: rows on both sides."""
    from orders.models import Cancellation, Order, Shipment
    from returns.models import Refund, Return
    from walmart_emulator.models import Order as WalmartOrder
    from walmart_emulator.models import ReturnOrder

    return {
        "walmart_orders": WalmartOrder.objects.filter(seller_id=scope.seller_id).count(),
        "walmart_returns": ReturnOrder.objects.filter(seller_id=scope.seller_id).count(),
        "orders": Order.objects.filter(store_id=scope.store_id).count(),
        "shipments": Shipment.objects.filter(order__store_id=scope.store_id).count(),
        "cancellations": Cancellation.objects.filter(order__store_id=scope.store_id).count(),
        "returns": Return.objects.filter(store_id=scope.store_id).count(),
        "refunds": Refund.objects.filter(return_order__store_id=scope.store_id).count(),
    }


def evaluate(scope: Scope, *, journal) -> tuple[list[CheckResult], Evidence]:
    """Every correctness check, in the order the report shows them."""
    now = time.time()
    evidence = Evidence(scope.request_log_dir)
    results = [
        check_orders(scope, evidence, now=now),
        check_acknowledgements(scope, evidence),
        check_shipments(scope, evidence),
        check_cancellations(scope, evidence),
        check_refunds(scope, evidence),
        *check_listings(scope),
        check_unfinished(scope),
        check_saved_but_error(journal),
    ]
    return results, evidence


def _rows_json(items: list[Any]) -> list[Any]:
    """Findings made JSON-safe (dates, decimals as text)."""
    import json

    return json.loads(json.dumps(items, default=str))
