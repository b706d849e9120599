"""The Orders and Returns tables are vacuumed after 1 % of their rows changed (orders 0015, returns 0007): the
name searches read their covering indexes index-only, which needs the changed pages marked all-visible again.
PostgreSQL only; migrating back restores PostgreSQL's defaults."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="autovacuum is PostgreSQL's"),
]

TUNED = {"autovacuum_vacuum_scale_factor=0.01", "autovacuum_vacuum_insert_scale_factor=0.01"}


def storage_options(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        (options,) = cursor.fetchone()
    return set(options or [])


def test_orders_and_returns_are_vacuumed_after_one_percent_of_their_rows_changed():
    assert storage_options("orders_order") == TUNED
    assert storage_options("returns_return") == TUNED


def test_migrating_back_restores_postgresql_defaults(transactional_db):
    # given: the schema before the tuning
    executor = MigrationExecutor(connection)
    executor.migrate([("orders", "0014_customer_names"), ("returns", "0006_customer_names")])
    # then
    assert storage_options("orders_order") == set()
    assert storage_options("returns_return") == set()
    # when: forwards again
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then
    assert storage_options("orders_order") == TUNED
    assert storage_options("returns_return") == TUNED
