"""End to end against the Walmart emulator through Django's live server: a customer's return appears, a
partial refund reaches Walmart with the right amounts, a lost answer is not refunded twice, and Walmart's
auto-refund after the deadline ends as Refunded with no second refund."""

from decimal import Decimal

import pytest
from celery.exceptions import Retry

from returns.models import Refund, Return
from returns.services import RefundLineRequest, refund_create, refund_push, returns_poll
from returns.tasks import refund_push_task
from tests.factories import StoreFactory
from tests.returns.conftest import run_like_a_worker
from tests.returns.factories import emulated_return
from walmart_emulator import services as emulator
from walmart_emulator.models import LineRefund
from walmart_emulator.models import ReturnLine as EmulatorReturnLine

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]

SECRET = "s3cret-value-never-shown"


@pytest.fixture
def returned(live_server):
    """A store wired to an emulated seller; the customer bought 2 mugs at 12.00 (tax 0.99 each), they were
    shipped, our order desk stored the order, and the customer returned both."""
    emulator.clock_reset()
    store = StoreFactory(
        environment="emulator", emulator_base_url=live_server.url + "/walmart-emulator", client_secret=SECRET
    )
    yield emulated_return(store, secret=SECRET)
    emulator.clock_reset()


def test_a_simulated_return_appears_linked_to_its_order(returned):
    store, _, placed, rma, _ = returned
    # when
    result = returns_poll(store=store)
    # then
    assert (result.created, result.updated) == (1, 0)
    stored = Return.objects.get()
    assert (stored.return_order_id, stored.customer_order_id) == (rma.return_order_id, placed.customer_order_id)
    assert stored.order.purchase_order_id == placed.purchase_order_id
    assert (stored.status, stored.items_summary, stored.charged_total) == ("received", "MUG-1 x 2", Decimal("25.98"))
    line = stored.lines.get()
    assert (line.unit_price, line.unit_tax, line.quantity, line.order_line.sku) == (
        Decimal("12.00"),
        Decimal("0.99"),
        2,
        "MUG-1",
    )
    assert returns_poll(store=store).created == 0
    assert Return.objects.count() == 1


def test_a_partial_refund_reaches_walmart_with_the_right_amounts(returned):
    store, seller, placed, rma, product = returned
    returns_poll(store=store)
    stored = Return.objects.get()
    # when: 1 of the 2 mugs is refunded and goes back to stock
    refund_create(return_order=stored, lines=[RefundLineRequest(stored.lines.get().pk, 1, back_to_stock=True)])
    # then: Walmart refunded exactly 1 unit: 12.00 and 0.99 tax
    remote_line = EmulatorReturnLine.objects.get(return_order__return_order_id=rma.return_order_id)
    assert (remote_line.refunded_quantity, remote_line.refund_channel) == (1, "SELLER")
    assert list(
        LineRefund.objects.filter(line__order__purchase_order_id=placed.purchase_order_id).values_list(
            "amount", "tax_amount"
        )
    ) == [(Decimal("-12.00"), Decimal("-0.99"))]
    refund = Refund.objects.get()
    assert (refund.status, refund.amount, refund.tax) == ("sent", Decimal("12.00"), Decimal("0.99"))
    stored.refresh_from_db()
    assert (stored.status, stored.refunded_total) == ("received", Decimal("12.99"))
    product.refresh_from_db()
    assert product.quantity == 6
    # and reading it again agrees with Walmart without counting it as Walmart's own refund
    returns_poll(store=store)
    line = stored.lines.get()
    assert (line.refunded_quantity, line.refunded_by_walmart_quantity) == (1, 0)


def test_a_lost_answer_is_read_back_and_never_refunded_twice(returned):
    store, seller, placed, rma, _ = returned
    returns_poll(store=store)
    stored = Return.objects.get()
    # given: Walmart applies the next write, then the connection drops without an answer
    emulator.fault_set(seller=seller, lost_answer_share=1.0, remaining=1)
    with pytest.raises(Retry):
        refund_create(return_order=stored, lines=[RefundLineRequest(stored.lines.get().pk, 2)])
    refund = Refund.objects.get()
    assert (refund.status, refund.request_maybe_applied) == ("pending", True)
    # when: a worker runs the retry
    run_like_a_worker(refund_push_task, refund.pk)
    # then: read back, marked Sent, one refund on Walmart's side
    refund.refresh_from_db()
    assert refund.status == "sent"
    assert LineRefund.objects.filter(line__order__purchase_order_id=placed.purchase_order_id).count() == 1
    assert EmulatorReturnLine.objects.get().refunded_quantity == 2
    stored.refresh_from_db()
    assert (stored.status, stored.refunded_total) == ("refunded", Decimal("25.98"))


def test_walmarts_auto_refund_ends_as_refunded_with_no_second_refund(returned):
    store, seller, placed, rma, _ = returned
    returns_poll(store=store)
    stored = Return.objects.get()
    line = stored.lines.get()
    refund_create(return_order=stored, lines=[RefundLineRequest(line.pk, 1)])
    # given: a refund of the other unit is saved, but Walmart throttles its push (it stays Pending)
    emulator.fault_set(seller=seller, throttle_storm=True)
    with pytest.raises(Retry):
        refund_create(return_order=stored, lines=[RefundLineRequest(line.pk, 1)])
    emulator.fault_clear(seller=seller)
    pending = Refund.objects.get(status="pending")
    # when: 49 hours pass on Walmart's clock (it refunds the unit itself) and returns are read
    emulator.clock_advance(seconds=49 * 3600)
    returns_poll(store=store)
    # then: Refunded, the pending refund cancelled, and pushing it sends nothing
    stored.refresh_from_db()
    assert (stored.status, stored.status_details) == ("refunded", "Refunded (1 unit by Walmart on its own).")
    assert stored.refunded_total == Decimal("25.98")
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert refund_push(refund_id=pending.pk).status == "cancelled"
    refunds = LineRefund.objects.filter(line__order__purchase_order_id=placed.purchase_order_id)
    assert sorted(refunds.values_list("amount", flat=True)) == [Decimal("-12.00"), Decimal("-12.00")]
    assert EmulatorReturnLine.objects.get().refunded_quantity == 2
