"""Fast bulk writes for feeds (10,000 rows in well under a second): `executemany` over plain INSERT /
UPDATE statements, with values prepared by the model fields themselves (so SQLite and PostgreSQL both
get what the ORM would send). Table and column names come from model metadata only; values are always
query parameters. Callers run these inside their own transaction."""

from collections.abc import Iterable, Sequence

from django.db import connection, models


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in fields]


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """INSERT rows (tuples in `fields` order; foreign keys as ids). Returns the row count."""
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(column.column) for column in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    prepared = [
        [column.get_db_prep_save(value, connection) for column, value in zip(columns, row, strict=True)] for row in rows
    ]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
    return len(prepared)


def bulk_update(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """UPDATE by primary key: rows are (pk, value for each of `fields`). Returns the row count."""
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608
    prepared = [
        [*(column.get_db_prep_save(value, connection) for column, value in zip(columns, row[1:], strict=True)), row[0]]
        for row in rows
    ]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
    return len(prepared)
