"""Refunds: validated before anything is written, saved as intent rows, pushed after commit, retried with
a cap, and never sent twice even after a timeout."""

import json
from decimal import Decimal

import pytest
import requests
import responses
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.urls import reverse

from inventory.models import StockMovement
from returns.models import Refund, RefundLine, Return
from returns.services import RefundLineRequest, refund_create, return_upsert_from_walmart
from returns.tasks import PUSH_MAX_RETRIES, refund_push_task
from tests.orders.factories import ProductFactory, line_json, order_json
from tests.returns.conftest import after_commit, calls_to, run_like_a_worker, walmart_calls
from tests.returns.factories import return_json, return_line_json, returns_page, shipped_order
from walmart_client.models import WalmartReturn

pytestmark = pytest.mark.django_db

REFUND_URL = "/v3/returns/RMA-1/refund"


def store_return(store, lines=None) -> Return:
    stored, _ = return_upsert_from_walmart(store=store, remote=WalmartReturn.from_api(return_json(lines=lines)))
    return stored


@pytest.fixture
def returned(store, listed_product):
    """PO-1 (2 units of SKU-1 at 10.00 + 0.80 tax each, shipped; 2 units reserved: stock 8) and RMA-1
    returning both units."""
    shipped_order(store)
    return store_return(store)


def echo(quantity: int, number: int = 1) -> dict:
    return {
        "returnOrderId": "RMA-1",
        "customerOrderId": "C-PO-1",
        "refundLines": [
            {"returnOrderLineNumber": number, "quantity": {"unitOfMeasure": "EA", "measurementValue": quantity}}
        ],
    }


def line_of(return_order: Return, number: int = 1):
    return return_order.lines.get(return_order_line_number=number)


def nothing_written(walmart_api) -> None:
    assert Refund.objects.count() == 0
    assert RefundLine.objects.count() == 0
    assert StockMovement.objects.filter(reason=StockMovement.Reason.RETURN_TO_STOCK).count() == 0
    assert walmart_calls(walmart_api) == []


def test_partial_refund_sends_the_quantity_and_returns_the_units_to_stock(
    store, returned, walmart_api, api_base, listed_product
):
    # given
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", json=echo(1))
    # when: 1 of the 2 units is refunded and goes back to stock
    with after_commit():
        refunds = refund_create(
            return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1, back_to_stock=True)]
        )
    # then: Walmart got the quantity; the refund is Sent with the pro rata amounts
    body = json.loads(calls_to(walmart_api, "POST", REFUND_URL)[0].request.body)
    assert body == {
        "customerOrderId": "C-PO-1",
        "refundLines": [{"returnOrderLineNumber": 1, "quantity": {"unitOfMeasure": "EA", "measurementValue": 1}}],
    }
    refund = Refund.objects.get()
    assert [refund] == refunds
    assert (refund.status, refund.channel, refund.amount, refund.tax, refund.attempts) == (
        "sent",
        "return_refund",
        Decimal("10.00"),
        Decimal("0.80"),
        0,
    )
    assert list(refund.lines.values_list("quantity", "amount", "tax", "back_to_stock")) == [
        (1, Decimal("10.00"), Decimal("0.80"), True)
    ]
    returned.refresh_from_db()
    assert (returned.status, returned.status_details) == ("received", "Partially refunded: 1 of 2 units.")
    assert returned.refunded_total == Decimal("10.80")
    assert (line_of(returned).refunded_quantity, line_of(returned).restocked_quantity) == (1, 1)
    # and exactly 1 unit came back to stock (8 after the order's reservation -> 9)
    listed_product.refresh_from_db()
    assert listed_product.quantity == 9
    movement = StockMovement.objects.get(reason=StockMovement.Reason.RETURN_TO_STOCK)
    assert (movement.delta, movement.quantity_after, movement.reference, movement.actor) == (
        1,
        9,
        "RMA RMA-1 line 1",
        "operator",
    )


def test_refund_of_more_than_was_returned_is_refused_and_writes_nothing(store, returned, walmart_api):
    with pytest.raises(ValidationError) as error, after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 3, back_to_stock=True)])
    assert error.value.messages == [
        "Line 1 (SKU-1): cannot refund 3; only 2 of the 2 returned units can still be refunded "
        "(0 refunded, 0 in progress)."
    ]
    nothing_written(walmart_api)
    returned.refresh_from_db()
    assert (returned.status, returned.status_details) == ("received", "")


def test_units_in_a_pending_refund_cannot_be_refunded_again(store, returned, walmart_api):
    # given: a refund of both units saved (its push has not run yet)
    refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 2)])
    # when: the operator submits the same refund again
    with pytest.raises(ValidationError) as error:
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1)])
    # then
    assert error.value.messages == [
        "Line 1 (SKU-1): cannot refund 1; only 0 of the 2 returned units can still be refunded "
        "(0 refunded, 2 in progress)."
    ]
    assert Refund.objects.count() == 1
    assert walmart_calls(walmart_api) == []


def test_refund_above_what_was_paid_is_refused_and_writes_nothing(store, returned, walmart_api):
    with pytest.raises(ValidationError) as error, after_commit():
        refund_create(
            return_order=returned,
            lines=[RefundLineRequest(line_of(returned).pk, 1, back_to_stock=True, amount=Decimal("30.00"))],
        )
    assert error.value.messages == [
        "Line 1 (SKU-1): 30.00 is more than was paid for 1 unit (10.80 = item price 10.00 + tax 0.80); "
        "a refund can never exceed what was charged."
    ]
    nothing_written(walmart_api)


def test_a_different_amount_is_refused_for_walmarts_returns_program(store, returned, walmart_api):
    with pytest.raises(ValidationError) as error:
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1, amount=Decimal("5.00"))])
    assert error.value.messages == [
        "Line 1 (SKU-1): Walmart's return refund pays back what was charged per unit (10.80 for 1 unit); a "
        "different amount is only possible for items outside Walmart's returns program."
    ]
    nothing_written(walmart_api)


def test_nothing_chosen_is_refused(store, returned, walmart_api):
    with pytest.raises(ValidationError) as error:
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 0)])
    assert error.value.messages == ["Choose at least one line and a quantity to refund."]
    nothing_written(walmart_api)


def test_an_unknown_sku_cannot_go_back_to_stock(store, walmart_api):
    # given: a return of a SKU that is not in the catalog
    returned = store_return(store, lines=[return_line_json(sku="GONE-1")])
    with pytest.raises(ValidationError) as error:
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1, back_to_stock=True)])
    assert error.value.messages == ["Line 1 (GONE-1): SKU GONE-1 is not in the catalog, so it cannot go back to stock."]
    nothing_written(walmart_api)


def test_return_to_stock_moves_exactly_the_chosen_quantities(store, walmart_api, api_base):
    # given: a return of 3 x SKU-A and 2 x SKU-B; 5 and 7 in stock
    sku_a = ProductFactory(sku="SKU-A", quantity=5)
    sku_b = ProductFactory(sku="SKU-B", quantity=7)
    returned = store_return(
        store,
        lines=[
            return_line_json(number=1, sku="SKU-A", quantity=3),
            return_line_json(number=2, sku="SKU-B", quantity=2),
        ],
    )
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", json={})
    # when: 2 of SKU-A go back to stock, 1 of SKU-B is refunded but not restocked
    with after_commit():
        refund_create(
            return_order=returned,
            lines=[
                RefundLineRequest(line_of(returned, 1).pk, 2, back_to_stock=True),
                RefundLineRequest(line_of(returned, 2).pk, 1, back_to_stock=False),
            ],
        )
    # then
    sku_a.refresh_from_db()
    sku_b.refresh_from_db()
    assert (sku_a.quantity, sku_b.quantity) == (7, 7)
    assert list(
        StockMovement.objects.filter(reason=StockMovement.Reason.RETURN_TO_STOCK).values_list("product__sku", "delta")
    ) == [("SKU-A", 2)]
    assert list(returned.lines.order_by("return_order_line_number").values_list("restocked_quantity", flat=True)) == [
        2,
        0,
    ]
    body = json.loads(calls_to(walmart_api, "POST", REFUND_URL)[0].request.body)
    assert body["refundLines"] == [
        {"returnOrderLineNumber": 1, "quantity": {"unitOfMeasure": "EA", "measurementValue": 2}},
        {"returnOrderLineNumber": 2, "quantity": {"unitOfMeasure": "EA", "measurementValue": 1}},
    ]


def test_an_item_outside_the_returns_program_goes_as_an_order_refund_with_amounts(store, walmart_api, api_base):
    # given: a FREIGHT item returned (not in Walmart's returns program)
    returned = store_return(store, lines=[return_line_json(exception_type="FREIGHT")])
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/refund",
        json={"order": order_json("PO-1", lines=[line_json(quantity=2, statuses=[("Shipped", 2, "1Z")])])},
    )
    # when: a goodwill refund of 5.40 (tax included) for 1 unit
    with after_commit():
        refund_create(
            return_order=returned,
            lines=[RefundLineRequest(line_of(returned).pk, 1, amount=Decimal("5.40"))],
            reason="Finance -> Goodwill",
        )
    # then: item price and tax split in the charged proportion, negative, on order line 1
    body = json.loads(calls_to(walmart_api, "POST", "/v3/orders/PO-1/refund")[0].request.body)
    order_line = body["orderRefund"]["orderLines"]["orderLine"][0]
    assert (body["orderRefund"]["purchaseOrderId"], order_line["lineNumber"], order_line["isFullRefund"]) == (
        "PO-1",
        "1",
        False,
    )
    refund_charge = order_line["refunds"]["refund"][0]["refundCharges"]["refundCharge"][0]
    assert refund_charge["refundReason"] == "Finance -> Goodwill"
    assert refund_charge["charge"]["chargeAmount"] == {"currency": "USD", "amount": -5.0}
    assert refund_charge["charge"]["tax"]["taxAmount"] == {"currency": "USD", "amount": -0.4}
    refund = Refund.objects.get()
    assert (refund.status, refund.channel, refund.purchase_order_id, refund.amount, refund.tax) == (
        "sent",
        "order_refund",
        "PO-1",
        Decimal("5.00"),
        Decimal("0.40"),
    )
    assert calls_to(walmart_api, "POST", REFUND_URL) == []


def test_timeout_after_walmart_applied_the_refund_does_not_refund_twice(store, returned, walmart_api, api_base):
    # given: the refund call times out after Walmart applied it; reading the return back shows 1 refunded
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", body=requests.exceptions.ReadTimeout())
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/returns",
        json=returns_page([return_json(lines=[return_line_json(refunded=1, refund_channel="SELLER")])]),
    )
    # when: the push's first attempt times out, and a worker runs the retry
    with pytest.raises(Retry), after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1)])
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts, refund.request_maybe_applied) == ("pending", 1, True)
    run_like_a_worker(refund_push_task, refund.pk)
    # then: one refund call, one read-back; Sent; 1 unit refunded (not 2), none counted as Walmart's own
    assert len(calls_to(walmart_api, "POST", REFUND_URL)) == 1
    assert len(calls_to(walmart_api, "GET", "/v3/returns")) == 1
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts, refund.request_maybe_applied) == ("sent", 1, False)
    line = line_of(returned)
    assert (line.refunded_quantity, line.refunded_by_walmart_quantity) == (1, 0)
    returned.refresh_from_db()
    assert returned.refunded_total == Decimal("10.80")
    assert returned.events.filter(message__contains="Walmart shows it applied").count() == 1


def test_timeout_before_walmart_applied_it_is_resent_once(store, returned, walmart_api, api_base):
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", body=requests.exceptions.ReadTimeout())
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", json=echo(1))
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    with pytest.raises(Retry), after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1)])
    run_like_a_worker(refund_push_task, Refund.objects.get().pk)
    assert len(calls_to(walmart_api, "POST", REFUND_URL)) == 2
    assert len(calls_to(walmart_api, "GET", "/v3/returns")) == 1
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts) == ("sent", 1)
    assert line_of(returned).refunded_quantity == 1


def test_order_refund_timeout_is_resolved_by_reading_the_order_back(store, walmart_api, api_base):
    returned = store_return(store, lines=[return_line_json(exception_type="HAZMAT")])
    walmart_api.add(responses.POST, f"{api_base}/v3/orders/PO-1/refund", body=requests.exceptions.ReadTimeout())
    refunded_line = line_json(quantity=2, statuses=[("Shipped", 2, "1Z")])
    refunded_line["refund"] = {
        "refundId": "R1",
        "refundCharges": {
            "refundCharge": [
                {
                    "refundReason": "Customer returned item",
                    "charge": {
                        "chargeType": "PRODUCT",
                        "chargeName": "Item Price",
                        "chargeAmount": {"currency": "USD", "amount": -10.0},
                        "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": -0.8}},
                    },
                }
            ]
        },
    }
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/PO-1", json={"order": order_json("PO-1", [refunded_line])})
    with pytest.raises(Retry), after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1)])
    run_like_a_worker(refund_push_task, Refund.objects.get().pk)
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/refund")) == 1
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1
    assert Refund.objects.get().status == "sent"


def test_walmart_refusal_marks_error_and_retry_sends_it(operator_client, store, returned, walmart_api, api_base):
    # given: Walmart refuses the first push with a 400
    walmart_api.add(
        responses.POST,
        f"{api_base}{REFUND_URL}",
        status=400,
        json={
            "errors": {
                "error": [
                    {
                        "code": "INVALID_REQUEST_CONTENT.GMP_RETURNS_API",
                        "field": "refundLines",
                        "description": "Return line 1 is not delivered yet.",
                    }
                ]
            }
        },
    )
    with after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 2)])
    refund = Refund.objects.get()
    returned.refresh_from_db()
    assert (refund.status, refund.attempts) == ("error", 1)
    assert refund.error == "INVALID_REQUEST_CONTENT.GMP_RETURNS_API [refundLines]: Return line 1 is not delivered yet."
    assert returned.status == "error"
    assert returned.status_details == f"Refund {refund.pk} failed: {refund.error}"
    detail = operator_client.get(reverse("returns:return_detail", args=[store.pk, returned.pk])).content.decode()
    retry_url = reverse("returns:refund_retry", args=[store.pk, returned.pk, refund.pk])
    assert f'action="{retry_url}"' in detail
    # when: Walmart accepts now and the operator presses Retry
    walmart_api.replace(responses.POST, f"{api_base}{REFUND_URL}", json=echo(2))
    with after_commit():
        response = operator_client.post(retry_url)
    # then
    assert response.status_code == 302
    refund.refresh_from_db()
    returned.refresh_from_db()
    assert refund.status == "sent"
    assert (returned.status, returned.status_details, returned.refunded_total) == (
        "refunded",
        "Refunded.",
        Decimal("21.60"),
    )
    assert len(calls_to(walmart_api, "POST", REFUND_URL)) == 2


def test_retries_stop_at_the_cap_with_error(store, returned, walmart_api, api_base):
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", status=429, json={}, headers={"Retry-After": "0"})
    with pytest.raises(Retry), after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1)])
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts) == ("pending", 1)
    # when: a worker runs every retry; the last one records Error instead of asking for another
    assert run_like_a_worker(refund_push_task, refund.pk) == PUSH_MAX_RETRIES
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.request_maybe_applied) == ("error", PUSH_MAX_RETRIES + 1, False)
    returned.refresh_from_db()
    assert returned.status == "error"


def test_a_refusal_because_walmart_refunded_meanwhile_cancels_instead_of_error(store, returned, walmart_api, api_base):
    # given: Walmart refuses the refund because it auto-refunded both units a moment ago
    walmart_api.add(
        responses.POST,
        f"{api_base}{REFUND_URL}",
        status=400,
        json={"errors": {"error": [{"code": "INVALID_REQUEST_CONTENT.GMP_RETURNS_API", "description": "Refunded."}]}},
    )
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/returns",
        json=returns_page([return_json(lines=[return_line_json(refunded=2, refund_channel="AUTO")])]),
    )
    # when
    with after_commit():
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 2)])
    # then: the return reads back as Refunded by Walmart; our refund is Cancelled, not Error
    refund = Refund.objects.get()
    assert refund.status == "cancelled"
    returned.refresh_from_db()
    assert (returned.status, returned.status_details) == ("refunded", "Refunded by Walmart on its own (auto-refund).")
    assert len(calls_to(walmart_api, "POST", REFUND_URL)) == 1


def test_units_go_back_to_stock_once_only(store, returned, walmart_api, api_base, listed_product):
    from returns.services import return_restock

    # given: Walmart refunded both units itself; the operator puts both back in stock without a refund
    assert return_restock(return_order=returned, quantities={line_of(returned).pk: 2}) == 2
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10
    # when: they try once more, or refund with "back to stock"
    with pytest.raises(ValidationError) as again:
        return_restock(return_order=returned, quantities={line_of(returned).pk: 1})
    with pytest.raises(ValidationError) as refund_error:
        refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1, back_to_stock=True)])
    # then
    message = "Line 1 (SKU-1): only 0 of the 2 returned units are not back in stock yet; 1 asked."
    assert again.value.messages == [message]
    assert refund_error.value.messages == [message]
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10
    assert StockMovement.objects.filter(reason=StockMovement.Reason.RETURN_TO_STOCK).count() == 1
    assert Refund.objects.count() == 0


def test_a_refund_whose_task_was_lost_is_sent_by_the_every_minute_sweep(store, returned, walmart_api, api_base):
    from datetime import timedelta

    from django.utils import timezone

    from channel_manager.tasks import sweep_task

    # given: a refund saved, its task lost (never ran), due for two minutes
    refund = refund_create(return_order=returned, lines=[RefundLineRequest(line_of(returned).pk, 1)])[0]
    Refund.objects.filter(pk=refund.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    walmart_api.add(responses.POST, f"{api_base}{REFUND_URL}", json=echo(1))
    # when
    assert sweep_task()["returns.refund"] == 1
    # then: sent once; the next sweep finds nothing
    refund.refresh_from_db()
    assert refund.status == "sent"
    assert sweep_task()["returns.refund"] == 0
    assert len(calls_to(walmart_api, "POST", REFUND_URL)) == 1
