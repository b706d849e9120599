"""Liveness checks for /healthz: the database answers a query and the broker answers PING."""

import redis
from django.conf import settings


def health_checks(*, database_connection) -> dict[str, dict]:
    checks: dict[str, dict] = {}
    try:
        with database_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"ok": True}
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy; the type is reported
        checks["database"] = {"ok": False, "error": type(error).__name__}
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        checks["broker"] = {"ok": True}
    except Exception as error:  # noqa: BLE001
        checks["broker"] = {"ok": False, "error": type(error).__name__}
    return checks
