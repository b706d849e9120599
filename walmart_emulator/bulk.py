"""Fast bulk writes for feeds (10,000 rows in well under a second): `executemany` over plain INSERT /
UPDATE statements, with values adapted like the ORM does (per column type, via the connection's
operations or the field itself), so SQLite and PostgreSQL both get what the ORM would send. Table and
column names come from model metadata only; values are always query parameters. Callers run these
inside their own transaction."""

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import cast

from django.db import connection, models

from channel_manager.columns import column_name

IDENTITY_TYPES = {
    "CharField",
    "TextField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "BigIntegerField",
    "FloatField",
    "BooleanField",
    "ForeignKey",
    "AutoField",
    "BigAutoField",
}


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[models.Field]:
    columns = []
    for name in fields:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field):
            raise ValueError(f"{model.__name__}.{name} is not a column")
        columns.append(field)
    return columns


def _adapter(field: models.Field) -> Callable[[object], object] | None:
    """How to turn a Python value into a query parameter for this column (None: as is). Same results as
    `field.get_db_prep_save`, without its per-value overhead (10,000-row feeds)."""
    kind = field.get_internal_type()
    if kind in IDENTITY_TYPES:
        return None
    if kind == "DateTimeField":
        cache: dict = {}

        def adapt_datetime(value):
            if value not in cache:
                cache[value] = connection.ops.adapt_datetimefield_value(value)
            return cache[value]

        return adapt_datetime
    if isinstance(field, models.DecimalField):
        decimal_field = field
        return lambda value: connection.ops.adapt_decimalfield_value(
            cast(Decimal, value), decimal_field.max_digits, decimal_field.decimal_places
        )
    return lambda value: field.get_db_prep_save(value, connection)


def _prepare(columns: list[models.Field], rows: Iterable[Sequence]) -> list[list]:
    adapters = [_adapter(column) for column in columns]
    return [
        [
            value if adapter is None or value is None else adapter(value)
            for adapter, value in zip(adapters, row, strict=True)
        ]
        for row in rows
    ]


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """INSERT rows (tuples in `fields` order; foreign keys as ids). Returns the row count."""
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(column_name(column)) for column in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    prepared = _prepare(columns, rows)
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
    return len(prepared)


def bulk_update(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """UPDATE by primary key: rows are (pk, value for each of `fields`). Returns the row count."""
    columns = _columns(model, fields)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column_name(column))} = %s" for column in columns)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(column_name(model._meta.pk))} = %s"  # noqa: S608
    rows = list(rows)
    prepared = [
        [*values, row[0]] for values, row in zip(_prepare(columns, [row[1:] for row in rows]), rows, strict=True)
    ]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
    return len(prepared)
