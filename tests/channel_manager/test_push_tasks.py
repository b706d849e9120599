"""Which failures `retried_after_outage` treats as an outage of our own side (retry within seconds) and which
fail the task at once (the same on every try)."""

from types import SimpleNamespace

import pytest
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from redis.exceptions import ConnectionError as RedisConnectionError

from channel_manager.push_tasks import retried_after_outage


def called_directly_task():
    # A task called as a plain function: an outage still closes connections and releases the claim, then the
    # error is raised again (there is no broker message to retry).
    return SimpleNamespace(name="tests.task", request=SimpleNamespace(called_directly=True, kwargs={}, id="a-1"))


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("terminating connection due to administrator command"),
        InterfaceError("connection already closed"),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    ],
    ids=["database terminated", "database closed", "redis down"],
)
def test_an_outage_releases_this_attempts_claim(error):
    released = []
    with pytest.raises(type(error)), retried_after_outage(called_directly_task(), release=lambda: released.append(1)):
        raise error
    assert released == [1]


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError('duplicate key value violates unique constraint "orders_order_store_po"'),
        DataError("value too long for type character varying(40)"),
        ProgrammingError('column "missing" does not exist'),
    ],
    ids=["integrity", "data", "programming"],
)
def test_a_deterministic_database_error_is_not_an_outage(error):
    released = []
    with pytest.raises(type(error)), retried_after_outage(called_directly_task(), release=lambda: released.append(1)):
        raise error
    assert released == []
