"""The pure mapping from Walmart's order objects to our fields."""

from datetime import timedelta
from decimal import Decimal

from orders.mapping import (
    intent_to_cancel_flag,
    line_status_from_quantities,
    order_fields_from_remote,
    order_line_fields_from_remote,
    order_status_from_lines,
    order_totals_from_lines,
)
from tests.orders.factories import ORDER_DATE, line_json, order_json
from walmart_client.models import WalmartOrder


def test_order_fields_are_read_from_walmarts_shape():
    # given
    remote = WalmartOrder.from_api(order_json("PO-7"))
    # when
    fields = order_fields_from_remote(remote)
    # then
    assert fields == {
        "customer_order_id": "C-PO-7",
        "customer_email": "po-7@relay.walmart.com",
        "order_type": "REGULAR",
        "order_date": ORDER_DATE,
        "phone": "5551234567",
        "ship_by": ORDER_DATE + timedelta(days=2),
        "deliver_by": ORDER_DATE + timedelta(days=5),
        "method_code": "Standard",
        "customer_name": "Ada Lovelace",
        "address1": "1 Analytical Way",
        "address2": "Apt 2",
        "city": "Bentonville",
        "state": "AR",
        "postal_code": "72712",
        "country": "USA",
        "address_type": "RESIDENTIAL",
        "walmart_last_modified": ORDER_DATE,
    }


def test_line_quantities_charges_and_tax_are_decimal_per_status():
    # given: 3 units, 1 shipped with tracking, 1 cancelled, 1 acknowledged; product 30.00 + shipping 4.99
    remote = WalmartOrder.from_api(
        order_json(
            lines=[
                line_json(
                    quantity=3,
                    price="30.00",
                    tax="2.40",
                    shipping="4.99",
                    statuses=[("Shipped", 1, "1Z999"), ("Cancelled", 1), ("Acknowledged", 1)],
                )
            ]
        )
    )
    # when
    fields = order_line_fields_from_remote(remote.lines[0])
    # then
    assert fields["quantity"] == 3
    assert (fields["quantity_shipped"], fields["quantity_cancelled"], fields["quantity_acknowledged"]) == (1, 1, 1)
    assert (fields["quantity_created"], fields["quantity_delivered"], fields["quantity_refunded"]) == (0, 0, 0)
    assert fields["unit_price"] == Decimal("10.00")
    assert fields["product_amount"] == Decimal("30.00")
    assert fields["shipping_amount"] == Decimal("4.99")
    assert fields["tax_amount"] == Decimal("2.40")
    assert fields["tracking"] == [{"status": "Shipped", "quantity": 1, "tracking_number": "1Z999"}]
    assert fields["status"] == "PartiallyShipped"
    assert fields["intent_to_cancel"] is False


def test_order_totals_and_summary_come_from_the_lines():
    remote = WalmartOrder.from_api(
        order_json(lines=[line_json("1", "A", 2, "20.00", "1.60"), line_json("2", "B", 1, "5.50", "0.44", "3.00")])
    )
    lines = [order_line_fields_from_remote(line) for line in remote.lines]
    totals = order_totals_from_lines(lines)
    assert totals == {
        "product_total": Decimal("25.50"),
        "shipping_total": Decimal("3.00"),
        "tax_total": Decimal("2.04"),
        "order_total": Decimal("30.54"),
        "item_quantity": 3,
        "items_summary": "A x 2, B x 1",
        "currency": "USD",
    }


def test_line_status_summary():
    zero = dict.fromkeys(
        [
            "quantity_created",
            "quantity_acknowledged",
            "quantity_shipped",
            "quantity_delivered",
            "quantity_cancelled",
            "quantity_refunded",
        ],
        0,
    )
    assert line_status_from_quantities(2, zero | {"quantity_created": 2}) == "Created"
    assert line_status_from_quantities(2, zero | {"quantity_acknowledged": 2}) == "Acknowledged"
    assert line_status_from_quantities(2, zero | {"quantity_shipped": 1, "quantity_acknowledged": 1}) == (
        "PartiallyShipped"
    )
    assert line_status_from_quantities(2, zero | {"quantity_shipped": 1, "quantity_cancelled": 1}) == "Shipped"
    assert line_status_from_quantities(2, zero | {"quantity_cancelled": 2}) == "Cancelled"
    assert line_status_from_quantities(1, zero | {"quantity_delivered": 1}) == "Delivered"


def test_order_status_rules():
    def line(quantity, shipped=0, cancelled=0, status="Acknowledged", details=""):
        return {
            "quantity": quantity,
            "quantity_shipped": shipped,
            "quantity_delivered": 0,
            "quantity_refunded": 0,
            "quantity_cancelled": cancelled,
            "status": status,
            "status_details": details,
        }

    assert order_status_from_lines([line(2)]) == ("open", "")
    assert order_status_from_lines([line(2, shipped=1)]) == ("partially_shipped", "")
    assert order_status_from_lines([line(2, shipped=1, cancelled=1)]) == ("shipped", "")
    assert order_status_from_lines([line(2, cancelled=2)]) == ("canceled", "")
    assert order_status_from_lines([line(1, status="Error", details="no listing")]) == ("error", "no listing")
    assert order_status_from_lines([line(1, shipped=1)], failed_operations=["Shipment 1Z failed: x"]) == (
        "error",
        "Shipment 1Z failed: x",
    )


def test_intent_to_cancel_flag_reads_walmarts_free_text():
    assert [intent_to_cancel_flag(v) for v in (None, "", "N", "false", "Y", "Customer requested")] == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_missing_order_date_is_none_not_an_error():
    data = order_json()
    del data["orderDate"]
    assert order_fields_from_remote(WalmartOrder.from_api(data))["order_date"] is None
