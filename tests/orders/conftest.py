"""Fixtures of the orders tests (the returns tests use them too): Walmart's API mocked at the HTTP
boundary with `responses`."""

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
