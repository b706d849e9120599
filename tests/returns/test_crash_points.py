"""Crash points of a refund: the worker dies after the in-flight mark, after Walmart's answer, or while
storing the answer; the one sweeper then finishes it. Walmart (the emulator, in this process) refunded
each unit exactly once, and the refund ends Sent."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from channel_manager.work import sweep_all
from returns.models import Refund, Return
from returns.services import RefundLineRequest, refund_create, refund_push, returns_poll
from returns.tasks import refund_push_task
from tests.emulator_bridge import CRASH_POINTS, ProcessDied, emulator_bridge
from tests.factories import StoreFactory
from tests.orders.conftest import after_commit, run_task_like_a_worker
from tests.returns.factories import emulated_return
from walmart_emulator import services as emulator
from walmart_emulator.models import LineRefund
from walmart_emulator.models import ReturnLine as EmulatorReturnLine

pytestmark = pytest.mark.django_db
SECRET = "emulator-secret-for-refund-crashes"
BASE_URL = "http://walmart.crash.test/walmart-emulator"


@pytest.fixture
def walmart():
    with emulator_bridge(BASE_URL) as bridge:
        yield bridge


@pytest.fixture
def returned(walmart):
    """A return of 2 mugs (12.00 + 0.99 tax each) read by our returns poll."""
    emulator.clock_reset()
    store = StoreFactory(environment="emulator", emulator_base_url=BASE_URL, client_secret=SECRET)
    store, _seller, placed, rma, _product = emulated_return(store, secret=SECRET)
    returns_poll(store=store)
    yield Return.objects.get(), placed, rma
    emulator.clock_reset()


def refund_one_unit(return_order: Return) -> Refund:
    """A refund of 1 unit, saved (its task is lost: the test transaction never commits)."""
    return refund_create(return_order=return_order, lines=[RefundLineRequest(return_order.lines.get().pk, 1)])[0]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_second_one_unit_refund_whose_worker_died_is_applied_once_by_the_sweep(returned, walmart, point):
    stored, placed, rma = returned
    # given: the first unit refunded normally
    first = refund_push(refund_id=refund_one_unit(stored).pk)
    assert first.status == Refund.Status.SENT
    # and the worker pushing the second unit dies at `point`
    second = refund_one_unit(stored)
    with walmart.crash_at(point, "POST", rf"/v3/returns/{rma.return_order_id}/refund$"), pytest.raises(ProcessDied):
        refund_push(refund_id=second.pk)
    second.refresh_from_db()
    assert (second.status, second.request_maybe_applied) == (Refund.Status.PENDING, True)
    # when
    with after_commit():
        counts = sweep_all(now=timezone.now() + timedelta(hours=1))
    # then: each unit refunded once on Walmart, both refunds Sent, the return Refunded
    assert counts["returns.refund"] == 1
    second.refresh_from_db()
    assert (second.status, second.error, second.request_maybe_applied) == (Refund.Status.SENT, "", False)
    assert EmulatorReturnLine.objects.get(return_order__return_order_id=rma.return_order_id).refunded_quantity == 2
    assert LineRefund.objects.filter(line__order__purchase_order_id=placed.purchase_order_id).count() == 2
    assert len(walmart.applied("POST", "/refund")) == 2
    stored.refresh_from_db()
    assert stored.status == Return.Status.REFUNDED
    line = stored.lines.get()
    assert (line.refunded_quantity, line.refunded_by_walmart_quantity) == (2, 0)


@pytest.mark.parametrize(
    "outage",
    [
        OperationalError("terminating connection due to administrator command"),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    ],
    ids=["database", "redis"],
)
def test_a_refund_whose_answer_could_not_be_stored_is_finished_by_its_own_retry(returned, walmart, outage):
    stored, placed, rma = returned
    refund = refund_one_unit(stored)
    # when: Walmart refunds the unit, then the write of its answer fails (no beat, no sweep runs)
    with walmart.outage_after_answer("POST", rf"/v3/returns/{rma.return_order_id}/refund$", outage) as failing:
        runs = run_task_like_a_worker(refund_push_task, refund.pk)
    # then: the retry read the return back and did not refund again
    assert (failing.fired, runs) == (True, 2)
    refund.refresh_from_db()
    assert (refund.status, refund.error, refund.request_maybe_applied) == (Refund.Status.SENT, "", False)
    assert EmulatorReturnLine.objects.get(return_order__return_order_id=rma.return_order_id).refunded_quantity == 1
    assert len(walmart.applied("POST", "/refund")) == 1
    assert stored.lines.get().refunded_quantity == 1
