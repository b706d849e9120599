"""Returns: simulator, list with cursors, refund rules, auto-refund after 48 hours."""

from decimal import Decimal

import pytest

from tests.walmart_emulator.factories import published_offer, refund_body, ship_body, ship_line
from tests.walmart_emulator.spec import assert_matches_spec, requires_specs
from walmart_emulator import services
from walmart_emulator.models import LineRefund, ReturnLine, ReturnOrder
from walmart_emulator.returns import ReturnSimulationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_order(wm, seller):
    published_offer(seller, "SKU-1", index=1, quantity=10, price="10.00")
    order = services.order_simulate(seller=seller, lines=[("SKU-1", 3)], method_code="Standard")
    wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge")
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 2, tracking="T-1")))
    return order


def refund_request(wm, return_order, number=1, quantity=None, customer_order_id=None):
    line = {"returnOrderLineNumber": number}
    if quantity is not None:
        line["quantity"] = {"unitOfMeasure": "EA", "measurementValue": quantity}
    body = {"customerOrderId": customer_order_id or return_order.customer_order_id, "refundLines": [line]}
    return wm.post(f"/v3/returns/{return_order.return_order_id}/refund", body)


def test_nothing_to_return_before_shipping(seller):
    published_offer(seller, "SKU-1", quantity=5)
    services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    with pytest.raises(ReturnSimulationError):
        services.return_simulate(seller=seller)
    assert not ReturnOrder.objects.exists()


def test_return_covers_shipped_quantity_only(seller, shipped_order):
    return_order = services.return_simulate(seller=seller, reason="DAMAGED")
    line = return_order.lines.get()
    assert (line.order_line.sku, line.quantity, line.return_reason) == ("SKU-1", 2, "DAMAGED")
    with pytest.raises(ReturnSimulationError):
        services.return_simulate(seller=seller)


@requires_specs
def test_returns_list_matches_spec_and_pages(wm, seller):
    published_offer(seller, "SKU-1", quantity=20)
    for _ in range(3):
        order = services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
        wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge")
        wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 1)))
        services.return_simulate(seller=seller, purchase_order_id=order.purchase_order_id)
    first = wm.get("/v3/returns", {"limit": 2}).json()
    assert_matches_spec("returns", "/v3/returns", "get", "200", first)
    assert first["meta"]["totalCount"] == 3
    second_response = wm.client.get("/walmart-emulator/v3/returns" + first["meta"]["nextCursor"], headers=wm.headers())
    second = second_response.json()
    ids = [item["returnOrderId"] for item in first["returnOrders"] + second["returnOrders"]]
    assert ids == list(ReturnOrder.objects.order_by("pk").values_list("return_order_id", flat=True))
    assert second["meta"]["nextCursor"] == ""
    assert wm.get("/v3/returns", {"status": "COMPLETED"}).json()["returnOrders"] == []


@requires_specs
def test_refund_a_return_line(wm, seller, shipped_order):
    return_order = services.return_simulate(seller=seller)
    response = refund_request(wm, return_order, quantity=1)
    assert response.status_code == 200
    assert_matches_spec("returns", "/v3/returns/{returnOrderId}/refund", "post", "200", response.json())
    assert ReturnLine.objects.get().refunded_quantity == 1
    assert list(LineRefund.objects.values_list("amount", "tax_amount", "reason")) == [
        (Decimal("-10.00"), Decimal("-0.83"), "Customer returned item")
    ]
    assert ReturnOrder.objects.get().status == "INITIATED"
    assert refund_request(wm, return_order).status_code == 200  # the rest
    assert ReturnOrder.objects.get().status == "COMPLETED"
    listed = wm.get("/v3/returns").json()["returnOrders"][0]["returnOrderLines"][0]
    assert (listed["refundedQty"], listed["refundChannel"]) == (2, "SELLER")


@pytest.mark.parametrize(
    ("number", "quantity", "customer", "field"),
    [
        (2, None, None, "returnOrderLineNumber"),
        (1, 3, None, "quantity"),
        (1, 0, None, "quantity"),
        (1, None, "999", "customerOrderId"),
    ],
)
def test_return_refund_rules_refuse_and_change_nothing(wm, seller, shipped_order, number, quantity, customer, field):
    return_order = services.return_simulate(seller=seller)
    response = refund_request(wm, return_order, number, quantity, customer)
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == field
    assert ReturnLine.objects.get().refunded_quantity == 0
    assert not LineRefund.objects.exists()


def test_refunded_return_cannot_be_refunded_again(wm, seller, shipped_order):
    return_order = services.return_simulate(seller=seller)
    assert refund_request(wm, return_order).status_code == 200
    response = refund_request(wm, return_order)
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["description"] == "Return line 1 is already refunded."
    assert LineRefund.objects.count() == 1


def test_return_refund_never_exceeds_what_was_charged(wm, seller, shipped_order):
    po = shipped_order.purchase_order_id
    # the seller already refunded 15.00 of the 20.00 charged for the two shipped units
    assert wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, -15.00)).status_code == 200
    return_order = services.return_simulate(seller=seller)
    response = refund_request(wm, return_order, quantity=1)
    assert response.status_code == 400
    assert LineRefund.objects.count() == 1


def test_unknown_return_is_404(wm, seller):
    response = wm.post("/v3/returns/123/refund", {"customerOrderId": "1", "refundLines": []})
    assert response.status_code == 404


def test_walmart_refunds_after_48_hours(wm, seller, shipped_order):
    return_order = services.return_simulate(seller=seller)
    services.clock_advance(seconds=47 * 3600)
    assert services.returns_auto_refund_due() == 0
    services.clock_advance(seconds=3600 + 1)
    listed = wm.get("/v3/returns").json()["returnOrders"][0]
    assert listed["returnOrderLines"][0]["refundChannel"] == "AUTO"
    return_order.refresh_from_db()
    assert return_order.status == "COMPLETED"
    assert LineRefund.objects.get().amount == Decimal("-20.00")
    assert services.returns_auto_refund_due() == 0
