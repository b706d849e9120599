"""Fixtures of the orders tests (the returns tests use them too): Walmart's API mocked at the HTTP
boundary with `responses`."""

import gc
import threading
import time

import pytest
import responses
from django.test import TestCase

from orders.models import OrderSettings
from tests.orders.factories import ListingFactory, ProductFactory


@pytest.fixture
def api_base(store):
    return store.api_base_url


@pytest.fixture
def walmart_api(store, api_base):
    """Every request to Walmart goes through this mock; the token call is answered once registered."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{api_base}/v3/token",
            json={"access_token": "test-token", "token_type": "Bearer", "expires_in": 900},
        )
        yield mock


@pytest.fixture
def order_settings(store):
    order_settings, _ = OrderSettings.objects.get_or_create(store=store)
    return order_settings


@pytest.fixture
def listed_product(store):
    """SKU-1 with 10 units, listed in `store`."""
    product = ProductFactory(sku="SKU-1", quantity=10)
    ListingFactory(store=store, product=product)
    return product


@pytest.fixture
def order(store, listed_product):
    """PO-1: 2 units of SKU-1, acknowledged, stored (2 units reserved)."""
    from orders.models import Order
    from orders.services import order_upsert_from_walmart
    from tests.orders.factories import line_json, order_json
    from walmart_client.models import WalmartOrder

    remote = order_json("PO-1", lines=[line_json(quantity=2, statuses=[("Acknowledged", 2)])])
    stored, _ = order_upsert_from_walmart(store=store, remote=WalmartOrder.from_api(remote), actor="schedule")
    Order.objects.filter(pk=stored.pk).update(acknowledged_at=stored.created_at)
    stored.refresh_from_db()
    return stored


def calls_to(mock, method: str, path: str) -> list:
    return [
        call for call in mock.calls if call.request.method == method and call.request.url.split("?")[0].endswith(path)
    ]


def after_commit():
    """Run the on-commit callbacks (task enqueues) registered inside the block when it exits, as a real
    commit would; the test's own transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def run_like_a_worker(task, pk: int, *, first_retry: int = 1) -> int:
    """Eager tasks raise celery's Retry instead of running again (CELERY_TASK_EAGER_PROPAGATES); run the
    retries the way a worker would (countdown skipped), until the task stops asking. Returns the retry
    number that finished (how many retries ran, counting from `first_retry`=1)."""
    from celery.exceptions import Retry

    retries = first_retry
    while True:
        try:
            task.apply(args=[pk], retries=retries, throw=True)
            return retries
        except Retry:
            retries += 1


def run_task_like_a_worker(task, *args) -> int:
    """Run `task(*args)` the way a worker would, following every retry it asks for (celery's Retry carries
    the signature to run next: the same task id, its arguments, countdown skipped) until it stops asking.
    Returns how many runs it took."""
    import uuid

    from celery.exceptions import Retry

    signature = task.signature(args, task_id=str(uuid.uuid4()))
    runs = 0
    while True:
        runs += 1
        assert runs <= 20, "the task kept asking to be retried"
        try:
            signature.apply(throw=True)
            return runs
        except Retry as retry:
            if retry.sig is None:
                raise
            signature = retry.sig


SERVER_THREADS_WAIT_SECONDS = 3


def live_server_request_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if "process_request_thread" in thread.name and thread.is_alive()]


@pytest.fixture
def live_server_threads_finish(live_server):
    """After a test against the emulator, end the live server's request threads before the next test.

    A Walmart client's keep-alive connection keeps its server thread (which shares the test database
    connection) alive until the client is garbage-collected; one kept in a reference cycle (an exception
    traceback: a Retry, a lost answer) outlives its test and wakes up during a later one. gc.collect()
    closes those sockets; then the threads are given SERVER_THREADS_WAIT_SECONDS to end."""
    yield
    gc.collect()
    deadline = time.monotonic() + SERVER_THREADS_WAIT_SECONDS
    while live_server_request_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
