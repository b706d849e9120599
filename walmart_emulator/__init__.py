"""A stateful stand-in for Walmart's Marketplace seller API (US, v3), mounted at /walmart-emulator/.

Point a client at `<server>/walmart-emulator` (e.g. `live_server.url + "/walmart-emulator"` in tests).

Test and demo helpers (all keyword-only):
- sellers and keys: `services.seller_create(name=, client_id=None, client_secret=None, is_live=True,
  simulate_orders=False)`; `services.token_issue(client_id=, client_secret=)`.
- catalog and offers: `services.catalog_seed(count=, seed=None)`, `services.catalog_item_create(gtin=, title=,
  price=)`, `services.offer_create(seller=, sku=, catalog_item=, price=, quantity=0, published_status=None)`.
- inventory (walmart_emulator/inventory.py, Walmart's documented semantics): `Offer.quantity` is inputQty (set by
  PUT /v3/inventory and the inventory feed), `Offer.reserved_quantity` is reservedQty (an order raises it, a shipment
  lowers it and inputQty, a cancellation lowers it), `Offer.available_to_sell` is availToSellQty;
  `services.inventory_update(seller=, sku=, quantity=)` sets inputQty.
- sellers who already sell on Walmart: `seeding.seller_items_seed(seller=, count=, seed=0)` (fast, re-runnable) and
  `seeding.seed_plan(count=, seed=0)` (the same items with the role each plays for an onboarding catalog: same SKU,
  identifier only, ambiguous, unknown); `manage.py emulator_seed_items --items N [--plan-csv PATH]`.
- reports: `POST /v3/reports/reportRequests?reportType=ITEM&reportVersion=v4` (or `INVENTORY` / `v1`), status,
  `downloadReport` -> a signed link serving a zipped CSV (reports.py; made WALMART_EMULATOR_REPORT_DELAY_SECONDS
  after the request).
- item events: `item_events.offer_unpublish(seller=, sku=, reason=)`, `item_events.offer_publish(seller=, sku=)`,
  `item_events.buy_box_change(seller=, sku=, winning_price=)`; the match feed and retire emit OFFER_PUBLISHED /
  OFFER_UNPUBLISHED, a ready report REPORT_STATUS.
- time: `services.clock_advance(seconds=)`, `services.clock_reset()`, `clock.emulator_now()`;
  `services.emulator_sweep()` applies everything that is due (feeds, deliveries, auto-cancel, auto-refund).
- faults: `services.fault_set(seller=, error_share=, error_status=500|503, latency_ms=, hang_seconds=,
  throttle_storm=, lost_answer_share=, remaining=)`, `services.fault_clear(seller=)`;
- rate limits: `settings.WALMART_EMULATOR_RATE_LIMITS` (family -> {"count", "seconds"}),
  `services.rate_limit_reset(seller=)`.
- customers: `services.order_simulate(seller=, lines=[(sku, qty)] | None, method_code=None)`,
  `services.orders_simulate(seller=, count=)`, `services.order_intent_to_cancel(seller=, purchase_order_id=,
  line_numbers=None)`, `services.return_simulate(seller=, purchase_order_id=None, line_number=None, quantity=None,
  reason=None)`.
- demo: `demo.emulator_demo_seed(seller_name=..., items=40) -> DemoSeed(seller_id, client_id, client_secret,
  identifiers)`.
Settings: WALMART_EMULATOR_FEED_DELAY_SECONDS (5), WALMART_EMULATOR_REPORT_DELAY_SECONDS (10),
WALMART_EMULATOR_FEED_LIMITS, WALMART_EMULATOR_RATE_LIMITS,
WALMART_EMULATOR_AUTO_CANCEL_DAYS (4), WALMART_EMULATOR_DELIVERY_DAYS (3), WALMART_EMULATOR_RETURN_AUTO_REFUND_HOURS
(48), WALMART_EMULATOR_WEBHOOK_MAX_ATTEMPTS (4), WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS (30).
Inspection pages (staff): /walmart-emulator/inspect/.
"""
