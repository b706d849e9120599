"""Inserting many new rows at once, at the speed of the database rather than of the ORM.

`bulk_create` builds one parameter per field per row and quotes them client-side: for thousands of rows of
thirty fields that costs more than the database's own work (order intake spent a third of its time there).
On PostgreSQL `rows_insert` takes the primary keys from the table's sequence in one query and streams the
rows with COPY; elsewhere it is `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from django.db import connections, models, router

SQLITE_BATCH = 500
# Built-in fields whose Python value psycopg writes exactly as Django would (no conversion on the way in).
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DecimalField",
        "EmailField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
    }
)


def _prepared_for_copy(field: models.Field) -> bool:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return True
    if field.get_internal_type() == "DateTimeField":
        return True  # naive values are made aware (or refused) by Django
    return not (field.get_internal_type() in _PLAIN_TYPES and type(field).__module__.startswith("django.db."))


def _plain(value):
    return value.value if isinstance(value, Enum) else value


def rows_insert(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Insert `instances` (new rows of `model`, possibly referring to each other through foreign keys set
    on instances inserted before) and give each its primary key, as `bulk_create` does. Field defaults,
    `auto_now_add` and `auto_now` are applied; `save()` and signals are not (as with `bulk_create`). Raises
    the database's IntegrityError when a row breaks a constraint (nothing of this call is kept when it runs
    in the caller's transaction)."""
    if not instances:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    for instance in instances:  # a foreign key set to an instance that got its key since
        for field in meta.concrete_fields:
            if (
                isinstance(field, models.ForeignKey)
                and getattr(instance, field.attname) is None
                and field.is_cached(instance)
            ):
                related = getattr(instance, field.name)
                setattr(instance, field.attname, related.pk if related is not None else None)
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=SQLITE_BATCH)
        return
    quote = connection.ops.quote_name
    without_key = [instance for instance in instances if instance.pk is None]
    if without_key:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(without_key)],
            )
            for instance, (key,) in zip(without_key, cursor.fetchall(), strict=True):
                instance.pk = key
    fields = list(meta.concrete_fields)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    # Most values go to psycopg as they are; only the fields whose value Django changes on the way in (JSON, stamps
    # set on save, naive datetimes, fields not built in) are prepared: preparing every field of every row cost
    # more than the COPY itself.
    prepared = [_prepared_for_copy(field) for field in fields]
    # The raw cursor's errors come out as Django's (IntegrityError...), as they do from bulk_create.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for instance in instances:
                copy.write_row(
                    [
                        field.get_db_prep_save(field.pre_save(instance, True), connection)
                        if prepare
                        else _plain(getattr(instance, field.attname))
                        for field, prepare in zip(fields, prepared, strict=True)
                    ]
                )
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
