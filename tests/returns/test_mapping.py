"""The pure mapping from Walmart's return JSON, and the refund arithmetic."""

from datetime import timedelta
from decimal import Decimal

from returns.mapping import (
    deadline_text,
    raw_lines_by_number,
    refund_share,
    refund_split,
    return_fields_from_remote,
    return_line_fields_from_remote,
    unit_charges,
    walmart_refunded_quantity,
)
from tests.returns.factories import REQUESTED, return_json, return_line_json
from walmart_client.models import WalmartReturn


def parsed(line: dict):
    remote = WalmartReturn.from_api(return_json(lines=[line]))
    return remote.lines[0], raw_lines_by_number(remote.raw)[1]


def test_per_unit_charges_are_taken_as_they_are():
    remote_line, raw_line = parsed(return_line_json(quantity=3, unit_price="12.50", unit_tax="1.03"))
    assert unit_charges(remote_line, raw_line) == (Decimal("12.50"), Decimal("1.03"))


def test_a_charge_given_as_a_line_total_is_divided_by_the_quantity():
    line = return_line_json(quantity=4)
    line["charges"] = [
        {
            "chargeCategory": "PRODUCT",
            "chargeName": "ItemPrice",
            "chargeAmount": {"currencyAmount": 40.0, "currencyUnit": "USD"},
            "tax": [{"taxName": "Tax1", "taxAmount": {"currencyAmount": 3.3, "currencyUnit": "USD"}}],
        }
    ]
    remote_line, raw_line = parsed(line)
    assert unit_charges(remote_line, raw_line) == (Decimal("10.00"), Decimal("0.83"))


def test_discounts_count_and_shipping_does_not():
    line = return_line_json(unit_price="20.00", unit_tax="1.60")
    line["charges"] += [
        {
            "chargeCategory": "PRODUCT",
            "chargeName": "Discount",
            "chargePerUnit": {"currencyAmount": -5.0, "currencyUnit": "USD"},
            "isDiscount": True,
            "tax": [{"taxName": "Tax1", "taxPerUnit": {"currencyAmount": -0.4, "currencyUnit": "USD"}}],
        },
        {
            "chargeCategory": "SHIPPING",
            "chargeName": "Shipping",
            "chargePerUnit": {"currencyAmount": 5.99, "currencyUnit": "USD"},
            "tax": [],
        },
    ]
    remote_line, raw_line = parsed(line)
    assert unit_charges(remote_line, raw_line) == (Decimal("15.00"), Decimal("1.20"))


def test_without_charges_the_order_line_gives_the_pro_rata_price():
    line = return_line_json()
    line["charges"] = []
    remote_line, raw_line = parsed(line)
    order_line = {"quantity": 3, "product_amount": Decimal("29.97"), "tax_amount": Decimal("2.47")}
    assert unit_charges(remote_line, raw_line, order_line=order_line) == (Decimal("9.99"), Decimal("0.82"))
    assert unit_charges(remote_line, raw_line) == (Decimal("0.00"), Decimal("0.00"))


def test_refunded_quantity_takes_the_larger_of_refunded_qty_and_completed_refunds():
    remote_line, _ = parsed(return_line_json(quantity=3, refunded=2))
    assert walmart_refunded_quantity(remote_line) == 2
    line = return_line_json(quantity=3, refunded=2)
    line["refundedQty"] = 0
    remote_line, _ = parsed(line)
    assert walmart_refunded_quantity(remote_line) == 2


def test_line_and_return_fields():
    remote = WalmartReturn.from_api(return_json(lines=[return_line_json(exception_type="FREIGHT", po_line=3)]))
    fields = return_line_fields_from_remote(remote.lines[0], raw_lines_by_number(remote.raw)[1])
    assert fields == {
        "purchase_order_id": "PO-1",
        "purchase_order_line_number": "3",
        "sku": "SKU-1",
        "product_name": "Product SKU-1",
        "quantity": 2,
        "unit_price": Decimal("10.00"),
        "unit_tax": Decimal("0.80"),
        "item_price": Decimal("20.00"),
        "tax": Decimal("1.60"),
        "return_reason": "DEFECTIVE",
        "refund_channel": "",
        "is_return_for_exception": True,
        "exception_item_type": "FREIGHT",
    }
    values = return_fields_from_remote(remote, auto_refund_hours=48)
    assert values["refund_deadline"] == REQUESTED + timedelta(hours=48)
    assert (values["customer_name"], values["walmart_refund_total"], values["purchase_order_id"]) == (
        "Ada Lovelace",
        Decimal("21.60"),
        "PO-1",
    )


def test_refund_share_and_split():
    assert refund_share(unit_price=Decimal("12.00"), unit_tax=Decimal("0.99"), quantity=3) == (
        Decimal("36.00"),
        Decimal("2.97"),
    )
    assert refund_split(total=Decimal("5.40"), charged_amount=Decimal("10.00"), charged_tax=Decimal("0.80")) == (
        Decimal("5.00"),
        Decimal("0.40"),
    )
    assert refund_split(total=Decimal("3.00"), charged_amount=Decimal("0"), charged_tax=Decimal("0")) == (
        Decimal("3.00"),
        Decimal("0.00"),
    )


def test_deadline_text():
    assert deadline_text(None) == ""
    assert deadline_text(timedelta(seconds=-5)) == "overdue"
    assert deadline_text(timedelta(minutes=12, seconds=30)) == "12m"
    assert deadline_text(timedelta(hours=3, minutes=20)) == "3h 20m"
    assert deadline_text(timedelta(days=1, hours=4, minutes=59)) == "1d 4h"
