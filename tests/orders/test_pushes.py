"""Shipments and cancellations: intent first, pushed after commit, retried, never sent twice."""

import json

import pytest
import requests
import responses
from celery.exceptions import Retry
from django.urls import reverse

from inventory.models import StockMovement
from orders.models import Cancellation, Order, OrderLine, Shipment, ShipmentLine
from orders.services import order_upsert_from_walmart
from orders.tasks import PUSH_MAX_RETRIES, shipment_push_task
from tests.orders.conftest import after_commit, calls_to, run_like_a_worker
from tests.orders.factories import line_json, order_json
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db

SHIP_FORM = {
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "method_code": "Standard",
    "ship_date": "2026-11-21T10:30",
}


def walmart_order(po="PO-1", statuses=None, quantity=2) -> dict:
    return order_json(po, lines=[line_json(quantity=quantity, statuses=statuses or [("Acknowledged", quantity)])])


def ship_url(store, order):
    return reverse("orders:order_ship", args=[store.pk, order.pk])


def cancel_url(store, order):
    return reverse("orders:order_cancel", args=[store.pk, order.pk])


def quantity_field(order, line_number="1") -> str:
    return f"quantity_{order.lines.get(line_number=line_number).pk}"


def test_operator_ships_part_of_an_order(operator_client, store, order, walmart_api, api_base):
    # given: Walmart answers the shipment with 1 shipped, 1 acknowledged
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": walmart_order(statuses=[("Shipped", 1, SHIP_FORM["tracking_number"]), ("Acknowledged", 1)])},
    )
    # when
    with after_commit():
        response = operator_client.post(ship_url(store, order), {**SHIP_FORM, quantity_field(order): 1})
    # then
    assert response.status_code == 302
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.carrier, shipment.tracking_number, shipment.attempts) == (
        "sent",
        "UPS",
        "1Z999AA10123456784",
        0,
    )
    assert list(shipment.lines.values_list("line__line_number", "quantity")) == [("1", 1)]
    body = json.loads(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")[0].request.body)
    line = body["orderShipment"]["orderLines"]["orderLine"][0]
    assert line["lineNumber"] == "1"
    assert line["sellerOrderId"] == "WM00000001"
    status = line["orderLineStatuses"]["orderLineStatus"][0]
    assert status["statusQuantity"]["amount"] == "1"
    assert status["trackingInfo"]["carrierName"] == {"carrier": "UPS"}
    assert status["trackingInfo"]["trackingNumber"] == "1Z999AA10123456784"
    assert status["trackingInfo"]["methodCode"] == "Standard"
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    assert OrderLine.objects.get().quantity_shipped == 1
    assert order.events.filter(message="Shipment 1Z999AA10123456784 sent to Walmart.").count() == 1


def test_other_carrier_is_sent_with_its_name_and_tracking_url(operator_client, store, order, walmart_api, api_base):
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": walmart_order(statuses=[("Shipped", 2, "TRK-1")])},
    )
    form = {
        **SHIP_FORM,
        "carrier": "__other__",
        "other_carrier": "Bob's Couriers",
        "tracking_url": "https://bob.example/track/TRK-1",
        "tracking_number": "TRK-1",
        quantity_field(order): 2,
    }
    with after_commit():
        operator_client.post(ship_url(store, order), form)
    body = json.loads(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")[0].request.body)
    tracking = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0][
        "trackingInfo"
    ]
    assert tracking["carrierName"] == {"otherCarrier": "Bob's Couriers"}
    assert tracking["trackingURL"] == "https://bob.example/track/TRK-1"
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_mapped_carrier_is_offered_under_the_merchants_name(operator_client, store, order, order_settings):
    order_settings.carrier_mapping = {"FedEx": "FedEx Ground (warehouse 2)"}
    order_settings.save()
    response = operator_client.get(ship_url(store, order))
    assert '<option value="FedEx">FedEx Ground (warehouse 2) (Walmart: FedEx)</option>' in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": 3}, None, "Only 2 left on line 1."),
        ({"quantity": 0}, None, "Choose at least one line and a quantity to ship."),
        ({"tracking_number": ""}, "tracking_number", "This field is required."),
        ({"carrier": "__other__", "other_carrier": "Bob"}, "tracking_url", "Walmart requires a tracking URL"),
        ({"carrier": "__other__", "tracking_url": "https://x.example/t"}, "other_carrier", "Enter the carrier's name"),
        ({"method_code": "Ground"}, "method_code", "Select a valid choice."),
        ({"ship_date": "yesterday"}, "ship_date", "Enter a valid date/time."),
    ],
)
def test_bad_ship_form_gives_a_clear_error_and_writes_nothing(
    operator_client, store, order, walmart_api, changes, field, message
):
    # given
    form = {**SHIP_FORM, quantity_field(order): changes.pop("quantity", 1), **changes}
    events_before = order.events.count()
    # when
    with after_commit():
        response = operator_client.post(ship_url(store, order), form)
    # then
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in text for text in errors.get(field or "__all__", []) + errors.get(quantity_field(order), []))
    assert Shipment.objects.count() == 0
    assert ShipmentLine.objects.count() == 0
    assert order.events.count() == events_before
    assert [call.request.url for call in walmart_api.calls] == []


def test_cannot_ship_units_held_by_a_pending_shipment_or_cancelled(store, order, walmart_api, api_base):
    # given: 1 unit cancelled on Walmart, 1 unit in a shipment Walmart has not answered yet (503 forever)
    from django.core.exceptions import ValidationError

    from orders.services import shipment_create

    order_upsert_from_walmart(
        store=store,
        remote=WalmartOrder.from_api(walmart_order(statuses=[("Acknowledged", 1), ("Cancelled", 1)])),
        actor="schedule",
    )
    shipment_create(
        order=order,
        quantities={order.lines.get().pk: 1},
        tracking_number="T1",
        method_code="Standard",
        ship_date=order.order_date,
        carrier="UPS",
    )
    # when / then: nothing is left to ship
    with pytest.raises(ValidationError) as error:
        shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="T2",
            method_code="Standard",
            ship_date=order.order_date,
            carrier="UPS",
        )
    assert "cannot ship 1; only 0 left to ship (ordered 2, shipped 0, cancelled 1, in progress 1)" in str(error.value)
    assert Shipment.objects.count() == 1


def test_timeout_after_walmart_applied_the_shipment_does_not_ship_twice(store, order, walmart_api, api_base):
    # given: the first ship call times out after Walmart applied it; reading the order back shows it shipped
    from orders.services import shipment_create

    walmart_api.add(responses.POST, f"{api_base}/v3/orders/PO-1/shipping", body=requests.exceptions.ReadTimeout())
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/orders/PO-1",
        json={"order": walmart_order(statuses=[("Shipped", 2, "1Z-LOST")])},
    )
    # when: the push task runs (its first attempt times out) and a worker runs the retry
    with pytest.raises(Retry), after_commit():
        shipment = shipment_create(
            order=order,
            quantities={order.lines.get().pk: 2},
            tracking_number="1Z-LOST",
            method_code="Standard",
            ship_date=order.order_date,
            carrier="UPS",
        )
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.attempts, shipment.request_maybe_applied) == ("pending", 1, True)
    run_like_a_worker(shipment_push_task, shipment.pk)
    # then: one ship call, one read-back, shipment Sent, order Shipped
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")) == 1
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1
    shipment.refresh_from_db()
    assert (shipment.status, shipment.attempts, shipment.request_maybe_applied) == ("sent", 1, False)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.events.filter(message__contains="Walmart already shows it").count() == 1


def test_timeout_before_walmart_applied_it_is_resent_once(store, order, walmart_api, api_base):
    from orders.services import shipment_create

    walmart_api.add(responses.POST, f"{api_base}/v3/orders/PO-1/shipping", body=requests.exceptions.ReadTimeout())
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": walmart_order(statuses=[("Shipped", 2, "1Z-2")])},
    )
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/PO-1", json={"order": walmart_order()})
    with pytest.raises(Retry), after_commit():
        shipment_create(
            order=order,
            quantities={order.lines.get().pk: 2},
            tracking_number="1Z-2",
            method_code="Standard",
            ship_date=order.order_date,
            carrier="UPS",
        )
    shipment = Shipment.objects.get()
    run_like_a_worker(shipment_push_task, shipment.pk)
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")) == 2
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1
    shipment.refresh_from_db()
    assert (shipment.status, shipment.attempts) == ("sent", 1)


def test_walmart_refusal_marks_the_shipment_error_and_retry_sends_it(
    operator_client, store, order, walmart_api, api_base
):
    # given: Walmart refuses the first push with a 400
    from orders.services import shipment_create

    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        status=400,
        json={
            "errors": {
                "error": [
                    {
                        "code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                        "field": "trackingNumber",
                        "description": "Tracking number is invalid",
                    }
                ]
            }
        },
    )
    with after_commit():
        shipment = shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="BAD",
            method_code="Standard",
            ship_date=order.order_date,
            carrier="UPS",
        )
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == "error"
    assert shipment.error == "INVALID_REQUEST_CONTENT.GMP_ORDER_API [trackingNumber]: Tracking number is invalid"
    assert order.status == Order.Status.ERROR
    assert "Shipment BAD failed: INVALID_REQUEST_CONTENT.GMP_ORDER_API" in order.status_details
    detail = operator_client.get(reverse("orders:order_detail", args=[store.pk, order.pk])).content.decode()
    assert "Retry</button>" in detail
    # when: Walmart now accepts, and the operator presses Retry
    walmart_api.replace(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": walmart_order(statuses=[("Shipped", 1, "BAD"), ("Acknowledged", 1)])},
    )
    with after_commit():
        response = operator_client.post(reverse("orders:operation_retry", args=[store.pk, "shipment", shipment.pk]))
    # then
    assert response.status_code == 302
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == "sent"
    assert (order.status, order.status_details) == (Order.Status.PARTIALLY_SHIPPED, "")
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")) == 2


def test_retries_stop_at_the_cap_with_error(store, order, walmart_api, api_base):
    from orders.services import shipment_create

    walmart_api.add(
        responses.POST, f"{api_base}/v3/orders/PO-1/shipping", status=429, json={}, headers={"Retry-After": "0"}
    )
    with pytest.raises(Retry), after_commit():
        shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="1Z-3",
            method_code="Standard",
            ship_date=order.order_date,
            carrier="UPS",
        )
    shipment = Shipment.objects.get()
    assert run_like_a_worker(shipment_push_task, shipment.pk) == PUSH_MAX_RETRIES
    shipment.refresh_from_db()
    assert shipment.status == "error"
    assert shipment.attempts == PUSH_MAX_RETRIES + 1
    # each task attempt is one client call, which itself tries a 429 four times (its own max_retries=3)
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")) == (PUSH_MAX_RETRIES + 1) * 4
    assert shipment.request_maybe_applied is False


# --- cancellations ----------------------------------------------------------------------------------------


def test_operator_cancels_the_whole_order_and_stock_comes_back(
    operator_client, store, order, walmart_api, api_base, listed_product
):
    # given: 2 units reserved
    listed_product.refresh_from_db()
    assert listed_product.quantity == 8
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/cancel",
        json={"order": walmart_order(statuses=[("Cancelled", 2)])},
    )
    # when: the form is submitted as shown (every remaining unit) with a reason
    with after_commit():
        response = operator_client.post(
            cancel_url(store, order), {"reason": "SELLER_CANCEL_OUT_OF_STOCK", quantity_field(order): 2}
        )
    # then
    assert response.status_code == 302
    cancellation = Cancellation.objects.get()
    assert (cancellation.status, cancellation.reason) == ("sent", "SELLER_CANCEL_OUT_OF_STOCK")
    body = json.loads(calls_to(walmart_api, "POST", "/v3/orders/PO-1/cancel")[0].request.body)
    status = body["orderCancellation"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert status == {
        "status": "Cancelled",
        "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "2"},
    }
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10
    assert list(StockMovement.objects.order_by("id").values_list("reason", "delta")) == [
        ("order_reservation", -2),
        ("order_cancellation", 2),
    ]


def test_cancel_one_unit_of_a_line(store, order, walmart_api, api_base, listed_product):
    from orders.services import cancellation_create

    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/cancel",
        json={"order": walmart_order(statuses=[("Acknowledged", 1), ("Cancelled", 1)])},
    )
    with after_commit():
        cancellation_create(order=order, quantities={order.lines.get().pk: 1}, reason="SELLER_CANCEL_PRICING_ERROR")
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    listed_product.refresh_from_db()
    assert listed_product.quantity == 9


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"reason": ""}, "reason", "This field is required."),
        ({"reason": "NOT_A_REASON"}, "reason", "Select a valid choice."),
        ({"reason": "SELLER_CANCEL_OUT_OF_STOCK", "quantity": 5}, None, "Only 2 left on line 1."),
        ({"reason": "SELLER_CANCEL_OUT_OF_STOCK", "quantity": 0}, None, "Choose at least one line"),
    ],
)
def test_bad_cancel_form_gives_a_clear_error_and_writes_nothing(
    operator_client, store, order, walmart_api, form, field, message, listed_product
):
    data = {**form, quantity_field(order): form.pop("quantity", 2)}
    data.pop("quantity", None)
    with after_commit():
        response = operator_client.post(cancel_url(store, order), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in text for text in errors.get(field or "__all__", []) + errors.get(quantity_field(order), []))
    assert Cancellation.objects.count() == 0
    assert [call.request.url for call in walmart_api.calls] == []
    listed_product.refresh_from_db()
    assert listed_product.quantity == 8


def test_customer_requested_reason_only_for_intent_to_cancel_lines(store, order):
    from django.core.exceptions import ValidationError

    from orders.services import cancellation_create

    with pytest.raises(ValidationError) as error:
        cancellation_create(order=order, quantities=None, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL")
    assert "only for lines the customer asked to cancel (not line 1)" in str(error.value)
    assert Cancellation.objects.count() == 0


def test_pages_of_another_store_are_404(operator_client, other_store):
    from orders.models import Order as OrderModel

    foreign = OrderModel.objects.create(
        store=other_store, purchase_order_id="X", commerce_order_number="WM1", order_date="2026-11-20T00:00Z"
    )
    for name in ("order_detail", "order_ship", "order_cancel"):
        assert operator_client.get(reverse(f"orders:{name}", args=[other_store.pk, foreign.pk])).status_code == 404
    assert operator_client.get(reverse("orders:order_list", args=[other_store.pk])).status_code == 404


def test_cancel_timeout_after_walmart_applied_it_is_not_resent_and_stock_comes_back_once(
    store, order, walmart_api, api_base, listed_product
):
    from orders.services import cancellation_create
    from orders.tasks import cancellation_push_task

    # given: the cancel call times out after Walmart applied it
    walmart_api.add(responses.POST, f"{api_base}/v3/orders/PO-1/cancel", body=requests.exceptions.ReadTimeout())
    walmart_api.add(
        responses.GET, f"{api_base}/v3/orders/PO-1", json={"order": walmart_order(statuses=[("Cancelled", 2)])}
    )
    with pytest.raises(Retry), after_commit():
        cancellation_create(order=order, quantities=None, reason="SELLER_CANCEL_OUT_OF_STOCK")
    cancellation = Cancellation.objects.get()
    # when: a worker runs the retry
    run_like_a_worker(cancellation_push_task, cancellation.pk)
    # then
    cancellation.refresh_from_db()
    assert (cancellation.status, cancellation.attempts) == ("sent", 1)
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/cancel")) == 1
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10
    assert list(StockMovement.objects.order_by("id").values_list("reason", "delta")) == [
        ("order_reservation", -2),
        ("order_cancellation", 2),
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED


@pytest.fixture
def cancel_requested_order(store, listed_product):
    """PO-9: 1 unit of SKU-1, acknowledged, the customer asked to cancel it (intent to cancel)."""
    remote = order_json("PO-9", lines=[line_json(statuses=[("Acknowledged", 1)], intent_to_cancel="Y")])
    stored, _ = order_upsert_from_walmart(store=store, remote=WalmartOrder.from_api(remote), actor="schedule")
    return stored


def test_ship_form_refuses_a_cancel_requested_line_without_the_confirmation(
    operator_client, store, cancel_requested_order, walmart_api
):
    # given: the customer asked to cancel line 1
    order = cancel_requested_order
    # when: the operator submits the ship form without ticking "Ship anyway"
    with after_commit():
        response = operator_client.post(ship_url(store, order), {**SHIP_FORM, quantity_field(order): 1})
    # then: the form comes back with the reason and the checkbox; nothing saved, nothing sent
    assert response.status_code == 200
    html = response.content.decode()
    assert "the customer asked to cancel it" in html
    assert 'name="intent_to_cancel_override"' in html
    assert "Ship anyway; the customer asked to cancel" in html
    assert Shipment.objects.count() == 0
    assert ShipmentLine.objects.count() == 0
    assert calls_to(walmart_api, "POST", "/v3/orders/PO-9/shipping") == []


def test_ship_form_without_cancel_requested_lines_has_no_override_checkbox(operator_client, store, order):
    html = operator_client.get(ship_url(store, order)).content.decode()
    assert 'name="intent_to_cancel_override"' not in html


def test_ship_anyway_sends_walmarts_intent_to_cancel_override(
    operator_client, store, cancel_requested_order, walmart_api, api_base
):
    # given: Walmart accepts the shipment of the cancel-requested line
    order = cancel_requested_order
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-9/shipping",
        json={
            "order": order_json(
                "PO-9", lines=[line_json(statuses=[("Shipped", 1, SHIP_FORM["tracking_number"])], intent_to_cancel="Y")]
            )
        },
    )
    # when: the operator ticks "Ship anyway"
    with after_commit():
        response = operator_client.post(
            ship_url(store, order), {**SHIP_FORM, quantity_field(order): 1, "intent_to_cancel_override": "on"}
        )
    # then: the shipment is saved with the override, sent once with intentToCancelOverride on the line
    assert response.status_code == 302
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.intent_to_cancel_override) == ("sent", True)
    calls = calls_to(walmart_api, "POST", "/v3/orders/PO-9/shipping")
    assert len(calls) == 1
    body = json.loads(calls[0].request.body)
    line = body["orderShipment"]["orderLines"]["orderLine"][0]
    assert (line["lineNumber"], line["intentToCancelOverride"]) == ("1", True)
    assert order.events.filter(
        message__contains="Shipped although the customer asked to cancel line(s) 1 (override confirmed)."
    ).exists()


def test_a_shipment_without_cancel_requested_lines_sends_no_override(
    operator_client, store, order, walmart_api, api_base
):
    # given
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": walmart_order(statuses=[("Shipped", 2, SHIP_FORM["tracking_number"])])},
    )
    # when: the override is posted although no line asked for it (the form has no such field)
    with after_commit():
        operator_client.post(
            ship_url(store, order), {**SHIP_FORM, quantity_field(order): 2, "intent_to_cancel_override": "on"}
        )
    # then
    assert Shipment.objects.get().intent_to_cancel_override is False
    body = json.loads(calls_to(walmart_api, "POST", "/v3/orders/PO-1/shipping")[0].request.body)
    assert "intentToCancelOverride" not in body["orderShipment"]["orderLines"]["orderLine"][0]


def test_a_saved_cancellation_is_shown_pending_when_the_database_fails_right_after_the_commit(
    operator_client, store, order, monkeypatch
):
    """The database fails after the cancellation committed (its push is queued): the operator sees it saved
    and pending, never an error page inviting a second cancellation."""
    from django.contrib.messages import get_messages
    from django.db import OperationalError

    def database_gone(self, *args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(Cancellation, "refresh_from_db", database_gone)
    # when: its push is not run (the broker holds it)
    response = operator_client.post(
        cancel_url(store, order), {"reason": "SELLER_CANCEL_OUT_OF_STOCK", quantity_field(order): 1}
    )
    # then
    assert response.status_code == 302
    cancellation = Cancellation.objects.get()
    assert cancellation.status == Cancellation.Status.PENDING
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert shown == [f"Cancellation {cancellation.pk}: Pending."]
