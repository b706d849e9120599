"""/healthz: for load balancers and compose. 200 when the database and the broker answer, else 503 naming
what failed. Public (no login), GET only."""

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.urls import reverse

from channel_manager.health import health_checks

pytestmark = pytest.mark.django_db


def test_healthy_when_database_and_redis_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "checks": {"database": {"ok": True}, "broker": {"ok": True}}}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_503_naming_the_broker_when_redis_is_unreachable(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "checks": {"database": {"ok": True}, "broker": {"ok": False, "error": "ConnectionError"}},
    }


def test_database_failure_is_named():
    # given: a database connection whose queries fail
    class BrokenCursor:
        def __enter__(self):
            raise OperationalError("server closed the connection")

        def __exit__(self, *exc):
            return False

    class BrokenConnection:
        def cursor(self):
            return BrokenCursor()

    # when
    checks = health_checks(database_connection=BrokenConnection())
    # then
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["broker"] == {"ok": True}


def test_healthz_is_public_and_get_only(client):
    assert client.get(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405
