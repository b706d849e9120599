"""Orders: paging by verbatim cursor, 404 as empty, typed parsing, and refusing bad writes before sending."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses

from tests.walmart_client.conftest import BASE_URL, calls_to
from walmart_client import CancelLine, RefundLine, ShipLine

ORDERS_URL = BASE_URL + "/v3/orders"
CURSOR = (
    "?limit=1&hasMoreElements=true&soIndex=31&poIndex=10&partnerId=100009&sellerId=8"
    "&createdStartDate=2013-08-16&createdEndDate=2019-09-17T18:47:03.703Z"
)
SHIP_AT = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def order_json(po: str, *, lines: list[dict] | None = None) -> dict:
    return {
        "purchaseOrderId": po,
        "customerOrderId": "C" + po,
        "customerEmailId": "3A31@relay.walmart.com",
        "orderType": "REGULAR",
        "orderDate": 1568466571000,
        "shippingInfo": {
            "phone": "3155598681",
            "estimatedDeliveryDate": 1569438000000,
            "estimatedShipDate": 1568700000000,
            "methodCode": "Value",
            "postalAddress": {
                "name": "Kathryn Cole",
                "address1": "3258BWarners rd",
                "address2": "Garage",
                "city": "Warners",
                "state": "NY",
                "postalCode": "13164",
                "country": "USA",
                "addressType": "RESIDENTIAL",
            },
        },
        "orderLines": {"orderLine": lines if lines is not None else [line_json("1")]},
    }


def line_json(number: str, *, quantity: str = "1", statuses: list[dict] | None = None) -> dict:
    return {
        "lineNumber": number,
        "item": {"productName": "Metronome", "sku": "SKU-" + number},
        "charges": {
            "charge": [
                {
                    "chargeType": "PRODUCT",
                    "chargeName": "ItemPrice",
                    "chargeAmount": {"currency": "USD", "amount": 10.1},
                    "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": 0.81}},
                },
                {
                    "chargeType": "SHIPPING",
                    "chargeName": "Shipping",
                    "chargeAmount": {"currency": "USD", "amount": 4.99},
                },
            ]
        },
        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": quantity},
        "statusDate": 1568466647000,
        "orderLineStatuses": {
            "orderLineStatus": statuses
            or [{"status": "Created", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": quantity}}]
        },
        "fulfillment": {"fulfillmentOption": "S2H", "shipMethod": "VALUE"},
    }


def page(orders: list[dict], cursor: str | None) -> dict:
    meta = {"totalCount": 99, "limit": 1}
    if cursor:
        meta["nextCursor"] = cursor
    return {"list": {"meta": meta, "elements": {"order": orders}}}


# ------------------------------------------------------------------------------------------ listing


def test_orders_follow_next_cursor_verbatim_with_no_other_params(api, client):
    # given
    api.add(responses.GET, ORDERS_URL, json=page([order_json("PO-1")], CURSOR))
    api.add(responses.GET, ORDERS_URL, json=page([order_json("PO-2")], None))
    # when
    orders = list(client.orders.iter_all(created_start_date=datetime(2024, 5, 1, tzinfo=UTC), status="Created"))
    # then
    assert [o.purchase_order_id for o in orders] == ["PO-1", "PO-2"]
    first, second = calls_to(api, "/v3/orders")
    assert first.request.url == ORDERS_URL + "?createdStartDate=2024-05-01T00%3A00%3A00.000Z&status=Created&limit=200"
    assert second.request.url == ORDERS_URL + CURSOR


def test_released_orders_follow_their_own_cursor(api, client):
    # given
    url = BASE_URL + "/v3/orders/released"
    api.add(responses.GET, url, json=page([order_json("PO-1")], CURSOR))
    api.add(responses.GET, url, json=page([order_json("PO-2")], None))
    # when
    orders = list(client.orders.iter_released(limit=1))
    # then
    assert [o.purchase_order_id for o in orders] == ["PO-1", "PO-2"]
    assert [c.request.url for c in calls_to(api, "/v3/orders/released")] == [url + "?limit=1", url + CURSOR]


def test_404_on_the_first_page_is_an_empty_list(api, client):
    # given
    api.add(
        responses.GET,
        ORDERS_URL,
        status=404,
        json={"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API", "description": "No Orders found"}]}},
    )
    # when
    orders = list(client.orders.iter_all())
    # then
    assert orders == []
    assert len(calls_to(api, "/v3/orders")) == 1


def test_404_on_a_later_page_ends_the_list(api, client):
    # given
    api.add(responses.GET, ORDERS_URL, json=page([order_json("PO-1")], CURSOR))
    api.add(responses.GET, ORDERS_URL, status=404)
    # when
    orders = list(client.orders.iter_all())
    # then
    assert [o.purchase_order_id for o in orders] == ["PO-1"]
    assert len(calls_to(api, "/v3/orders")) == 2


def test_list_limit_over_200_is_refused_before_sending(api, client):
    with pytest.raises(ValueError, match="limit"):
        list(client.orders.iter_all(limit=201))
    assert calls_to(api, "/v3/orders") == []


def test_naive_datetime_filter_is_refused(api, client):
    with pytest.raises(ValueError, match="timezone-aware"):
        list(client.orders.iter_all(created_start_date=datetime(2024, 5, 1)))  # noqa: DTZ001 - the point
    assert calls_to(api, "/v3/orders") == []


# ------------------------------------------------------------------------------------------ parsing


def test_order_is_parsed_into_typed_fields(api, client):
    # given a line of 3: 1 shipped with tracking, 2 cancelled
    statuses = [
        {
            "status": "Shipped",
            "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
            "trackingInfo": {
                "shipDateTime": 1714564800000,
                "carrierName": {"carrier": "UPS"},
                "methodCode": "Standard",
                "trackingNumber": "1Z999",
                "trackingURL": "https://ups.test/1Z999",
            },
        },
        {
            "status": "Cancelled",
            "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
            "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "2"},
        },
    ]
    api.add(
        responses.GET,
        BASE_URL + "/v3/orders/PO-9",
        json={"order": order_json("PO-9", lines=[line_json("4", quantity="3", statuses=statuses)])},
    )
    # when
    order = client.orders.get("PO-9")
    # then
    assert order.purchase_order_id == "PO-9"
    assert order.customer_order_id == "CPO-9"
    assert order.order_date == datetime(2019, 9, 14, 13, 9, 31, tzinfo=UTC)
    assert order.shipping_info.estimated_ship_date == datetime(2019, 9, 17, 6, 0, tzinfo=UTC)
    assert order.shipping_info.method_code == "Value"
    assert order.shipping_info.postal_address.postal_code == "13164"
    assert order.shipping_info.postal_address.address2 == "Garage"
    line = order.line(4)
    assert line.sku == "SKU-4"
    assert line.quantity == 3
    assert line.quantity_by_status == {"Shipped": 1, "Cancelled": 2}
    assert line.quantity_in("Cancelled") == 2
    assert line.statuses[1].cancellation_reason == "SELLER_CANCEL_OUT_OF_STOCK"
    tracking = line.statuses[0].tracking_info
    assert tracking.carrier == "UPS"
    assert tracking.tracking_number == "1Z999"
    assert tracking.ship_datetime == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert line.charges[0].amount == Decimal("10.1")
    assert line.charges[0].tax_amount == Decimal("0.81")
    assert line.charges[1].charge_type == "SHIPPING"
    assert line.charges[1].tax_amount == Decimal("0")
    assert line.product_amount == Decimal("10.1")
    assert line.fulfillment_option == "S2H"
    assert order.raw["purchaseOrderId"] == "PO-9"


def test_money_is_exact_decimal_never_float(api, client):
    # given an amount a float cannot hold exactly
    line = line_json("1")
    line["charges"]["charge"][0]["chargeAmount"]["amount"] = 0.1
    api.add(responses.GET, BASE_URL + "/v3/orders/PO-1", body=json.dumps({"order": order_json("PO-1", lines=[line])}))
    # when
    order = client.orders.get("PO-1")
    # then
    assert order.lines[0].charges[0].amount == Decimal("0.1")
    assert isinstance(order.lines[0].charges[0].amount, Decimal)


def test_purchase_order_id_is_url_encoded_in_the_path(api, client):
    api.add(responses.GET, BASE_URL + "/v3/orders/PO%2F1%231", json={"order": order_json("PO/1#1")})
    assert client.orders.get("PO/1#1").purchase_order_id == "PO/1#1"


# ------------------------------------------------------------------------------------------- writes


def test_ship_sends_partial_quantities_grouped_per_line(api, client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/orders/PO-1/shipping", json={"order": order_json("PO-1")})
    lines = [
        ShipLine(
            line_number="1",
            quantity=1,
            carrier="UPS",
            tracking_number="T1",
            method_code="Standard",
            ship_datetime=SHIP_AT,
        ),
        ShipLine(
            line_number="1",
            quantity=2,
            other_carrier="Local Courier",
            tracking_number="T2",
            tracking_url="https://courier.test/T2",
            method_code="Standard",
            ship_datetime=SHIP_AT,
        ),
        ShipLine(
            line_number=2,
            quantity=1,
            carrier="FedEx",
            tracking_number="T3",
            method_code="Express",
            ship_datetime=SHIP_AT,
        ),
    ]
    # when
    client.orders.ship("PO-1", lines=lines, seller_order_id="SO-77")
    # then
    body = json.loads(calls_to(api, "/v3/orders/PO-1/shipping")[0].request.body)
    assert body == {
        "orderShipment": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": "1",
                        "sellerOrderId": "SO-77",
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Shipped",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                                    "trackingInfo": {
                                        "shipDateTime": 1714564800000,
                                        "carrierName": {"carrier": "UPS"},
                                        "methodCode": "Standard",
                                        "trackingNumber": "T1",
                                    },
                                },
                                {
                                    "status": "Shipped",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "2"},
                                    "trackingInfo": {
                                        "shipDateTime": 1714564800000,
                                        "carrierName": {"otherCarrier": "Local Courier"},
                                        "methodCode": "Standard",
                                        "trackingNumber": "T2",
                                        "trackingURL": "https://courier.test/T2",
                                    },
                                },
                            ]
                        },
                    },
                    {
                        "lineNumber": "2",
                        "sellerOrderId": "SO-77",
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Shipped",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                                    "trackingInfo": {
                                        "shipDateTime": 1714564800000,
                                        "carrierName": {"carrier": "FedEx"},
                                        "methodCode": "Express",
                                        "trackingNumber": "T3",
                                    },
                                }
                            ]
                        },
                    },
                ]
            }
        }
    }


def _ship(**overrides):
    values = {
        "line_number": "1",
        "quantity": 1,
        "carrier": "UPS",
        "tracking_number": "T1",
        "method_code": "Standard",
        "ship_datetime": SHIP_AT,
    }
    values.update(overrides)
    return ShipLine(**values)


@pytest.mark.parametrize(
    ("line", "seller_order_id", "message"),
    [
        (_ship(carrier="Bob's Trucks"), "SO-1", "tracking URL is required"),
        (_ship(carrier="ups"), "SO-1", "tracking URL is required"),  # Walmart's enum is case-sensitive
        (_ship(carrier=None, other_carrier="Bob's Trucks"), "SO-1", "tracking URL is required"),
        (_ship(method_code="Ground"), "SO-1", "method code 'Ground'"),
        (_ship(), "", "sellerOrderId is required"),
        (_ship(), "X" * 31, "longer than 30"),
        (_ship(quantity=0), "SO-1", "must be positive"),
        (_ship(ship_datetime=datetime(2024, 5, 1)), "SO-1", "timezone-aware"),  # noqa: DTZ001 - the point
        (_ship(tracking_number=""), "SO-1", "tracking number"),
    ],
)
def test_ship_refuses_what_walmart_would_reject_without_sending(api, client, line, seller_order_id, message):
    with pytest.raises(ValueError, match=message):
        client.orders.ship("PO-1", lines=[line], seller_order_id=seller_order_id)
    assert calls_to(api, "/v3/orders/PO-1/shipping") == []
    assert calls_to(api, "/v3/token") == []


def test_cancel_sends_the_reason_and_quantity(api, client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/orders/PO-1/cancel", json={"order": order_json("PO-1")})
    # when
    client.orders.cancel("PO-1", lines=[CancelLine(line_number="2", quantity=3, reason="SELLER_CANCEL_OUT_OF_STOCK")])
    # then
    body = json.loads(calls_to(api, "/v3/orders/PO-1/cancel")[0].request.body)
    assert body == {
        "orderCancellation": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": "2",
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Cancelled",
                                    "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "3"},
                                }
                            ]
                        },
                    }
                ]
            }
        }
    }


def test_cancel_with_an_unknown_reason_is_refused_without_sending(api, client):
    with pytest.raises(ValueError, match="cancel reason 'OUT_OF_STOCK'"):
        client.orders.cancel("PO-1", lines=[CancelLine(line_number="1", quantity=1, reason="OUT_OF_STOCK")])
    assert calls_to(api, "/v3/orders/PO-1/cancel") == []


def test_refund_sends_negative_amounts(api, client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/orders/PO-1/refund", json={"order": order_json("PO-1")})
    # when
    client.orders.refund(
        "PO-1",
        lines=[
            RefundLine(
                line_number="1",
                amount=Decimal("-5.25"),
                tax=Decimal("-0.42"),
                reason="DamagedItem",
                quantity=1,
                comments="box crushed",
            )
        ],
    )
    # then
    body = json.loads(calls_to(api, "/v3/orders/PO-1/refund")[0].request.body)
    assert body == {
        "orderRefund": {
            "purchaseOrderId": "PO-1",
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": "1",
                        "isFullRefund": False,
                        "refunds": {
                            "refund": [
                                {
                                    "refundComments": "box crushed",
                                    "refundCharges": {
                                        "refundCharge": [
                                            {
                                                "refundReason": "DamagedItem",
                                                "charge": {
                                                    "chargeType": "PRODUCT",
                                                    "chargeName": "Item Price",
                                                    "chargeAmount": {"currency": "USD", "amount": -5.25},
                                                    "tax": {
                                                        "taxName": "Item Price Tax",
                                                        "taxAmount": {"currency": "USD", "amount": -0.42},
                                                    },
                                                },
                                            }
                                        ]
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
        }
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (RefundLine(line_number="1", amount=Decimal("5.00"), reason="DamagedItem"), "must be negative"),
        (RefundLine(line_number="1", amount=Decimal("0"), reason="DamagedItem"), "must be negative"),
        (RefundLine(line_number="1", amount=Decimal("-5.001"), reason="DamagedItem"), "more than two decimals"),
        (RefundLine(line_number="1", amount=Decimal("-5"), tax=Decimal("0.5"), reason="DamagedItem"), "tax"),
        (RefundLine(line_number="1", amount=Decimal("-5"), reason="Because"), "refund reason 'Because'"),
        (RefundLine(line_number="1", amount=-5.5, reason="DamagedItem"), "not a float"),
    ],
)
def test_refund_refuses_bad_amounts_without_sending(api, client, line, message):
    with pytest.raises(ValueError, match=message):
        client.orders.refund("PO-1", lines=[line])
    assert calls_to(api, "/v3/orders/PO-1/refund") == []


def test_acknowledge_posts_no_body_and_returns_the_order(api, client):
    # given
    acknowledged = order_json(
        "PO-1",
        lines=[
            line_json(
                "1",
                statuses=[{"status": "Acknowledged", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}}],
            )
        ],
    )
    api.add(responses.POST, BASE_URL + "/v3/orders/PO-1/acknowledge", json={"order": acknowledged})
    # when
    order = client.orders.acknowledge("PO-1")
    # then
    call = calls_to(api, "/v3/orders/PO-1/acknowledge")[0]
    assert call.request.body is None
    assert order.lines[0].quantity_by_status == {"Acknowledged": 1}


def test_tracking_correction_and_intent_to_cancel_override(api, client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/orders/PO-1/shipping", json={"order": order_json("PO-1")})
    line = ShipLine(
        line_number="3",
        quantity=1,
        carrier="USPS",
        tracking_number="NEW-1",
        method_code="Value",
        ship_datetime=SHIP_AT,
        intent_to_cancel_override=True,
        replaces_tracking_number="OLD-1",
    )
    # when
    client.orders.ship("PO-1", lines=[line], seller_order_id="SO-1")
    # then
    body = json.loads(calls_to(api, "/v3/orders/PO-1/shipping")[0].request.body)
    assert body["orderShipment"]["processMode"] == "PARTIAL_UPDATE"
    sent_line = body["orderShipment"]["orderLines"]["orderLine"][0]
    assert sent_line["intentToCancelOverride"] is True
    assert sent_line["orderLineStatuses"]["orderLineStatus"][0]["currentTrackingInfo"] == {"trackingNumber": "OLD-1"}


def test_tracking_correction_cannot_be_mixed_with_new_shipments(api, client):
    lines = [_ship(), _ship(line_number="2", replaces_tracking_number="OLD")]
    with pytest.raises(ValueError, match="cannot be mixed"):
        client.orders.ship("PO-1", lines=lines, seller_order_id="SO-1")
    assert calls_to(api, "/v3/orders/PO-1/shipping") == []


def test_a_repeated_cursor_ends_the_list_instead_of_looping(api, client):
    api.add(responses.GET, ORDERS_URL, json=page([order_json("PO-1")], CURSOR))
    api.add(responses.GET, ORDERS_URL, json=page([order_json("PO-2")], CURSOR))
    orders = list(client.orders.iter_all())
    assert [o.purchase_order_id for o in orders] == ["PO-1", "PO-2"]
    assert len(calls_to(api, "/v3/orders")) == 2


def test_every_line_and_address_field_lands_in_its_own_attribute():
    # given a line with every field set to a distinct value
    from walmart_client.models import Charge, LineStatus, OrderRefund, PostalAddress, WalmartOrderLine

    data = line_json("7", quantity="2")
    data["item"]["condition"] = "New"
    data["statusDate"] = 1714564800000
    data["refund"] = {"refundId": "R1", "refundComments": "c", "refundCharges": {"refundCharge": []}}
    data.update(intentToCancel="Y", sellerOrderId="SO", returnOrderId="RO", originalCarrierMethod="22")
    # when
    line = WalmartOrderLine.from_api(data)
    address = PostalAddress.from_api(order_json("P")["shippingInfo"]["postalAddress"])
    # then
    assert line == WalmartOrderLine(
        line_number="7",
        sku="SKU-7",
        product_name="Metronome",
        quantity=2,
        charges=[
            Charge("PRODUCT", "ItemPrice", Decimal("10.1"), "USD", Decimal("0.81"), "Tax1"),
            Charge("SHIPPING", "Shipping", Decimal("4.99"), "USD", Decimal("0"), None),
        ],
        statuses=[LineStatus(status="Created", quantity=2)],
        status_date=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        condition="New",
        unit_of_measurement="EACH",
        refund=OrderRefund(refund_id="R1", comments="c", charges=[]),
        fulfillment_option="S2H",
        ship_method="VALUE",
        intent_to_cancel="Y",
        seller_order_id="SO",
        return_order_id="RO",
        original_carrier_method="22",
    )
    assert address == PostalAddress(
        name="Kathryn Cole",
        address1="3258BWarners rd",
        address2="Garage",
        city="Warners",
        state="NY",
        postal_code="13164",
        country="USA",
        address_type="RESIDENTIAL",
    )
