"""Inserting and updating many rows at once, at the speed of the database rather than of the ORM.

`bulk_create` builds one parameter per field per row and quotes them client-side: for thousands of rows of
thirty fields that costs more than the database's own work (order intake spent a third of its time there).
On PostgreSQL `rows_insert` takes the primary keys from the table's sequence in one query and streams the
rows with COPY; elsewhere it is `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from operator import attrgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router
from django.db.models.base import ModelState
from django.db.models.lookups import In
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from django.utils.datastructures import OrderedSet

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


def _stamped_on_insert(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _prepared_for_copy(field: models.Field) -> bool:
    if _stamped_on_insert(field) or field.get_internal_type() == "DateTimeField":
        return False  # set here / passed as they are when aware (see rows_insert)
    return not (field.get_internal_type() in _PLAIN_TYPES and type(field).__module__.startswith("django.db."))


def _plain(value):
    return value.value if isinstance(value, Enum) else value


def instances_new(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> list[Any]:
    """New, unsaved instances of `model`, one per row of `{field name or attname: value}`, as `model(**row)`
    builds them (field defaults for what a row leaves out, callable defaults called per instance; a foreign
    key given as an instance sets its id and is cached) without `Model.__init__`'s per-field work: building
    tens of thousands of order lines that way cost more than inserting them. Falls back to `model(**row)` when
    the model has pre_init / post_init receivers. An unknown name raises TypeError, as `model(**row)` does."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return [model(**row) for row in rows]
    meta = model._meta
    constant: dict[str, Any] = {}
    called: list[tuple[str, str, Any]] = []
    names: dict[str, str] = {}  # field name or attname -> attname
    relations: dict[str, models.Field] = {}  # field name of a foreign key -> field
    for field in meta.concrete_fields:
        names[field.name] = names[field.attname] = field.attname
        if field.is_relation:
            relations[field.name] = field
        if field.has_default() and callable(field.default):
            called.append((field.name, field.attname, field.default))
        else:
            constant[field.attname] = field.get_default()
    instances = []
    for row in rows:
        instance = model.__new__(model)
        state = instance._state = ModelState()
        values = instance.__dict__
        values.update(constant)
        for name, attname, default in called:
            if name not in row and attname not in row:
                values[attname] = default()
        for name, value in row.items():
            relation = relations.get(name)
            if relation is not None and (value is None or isinstance(value, models.Model)):
                values[relation.attname] = value.pk if value is not None else None
                state.fields_cache[name] = value
                continue
            if name not in names:
                raise TypeError(f"{model.__name__}() got unexpected keyword arguments: '{name}'")
            values[names[name]] = value
        instances.append(instance)
    return instances


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
    foreign_keys = [field for field in meta.concrete_fields if isinstance(field, models.ForeignKey)]
    for instance in instances:  # a foreign key set to an instance that got its key since
        for foreign_key in foreign_keys:
            if getattr(instance, foreign_key.attname) is None and foreign_key.is_cached(instance):
                related = getattr(instance, foreign_key.name)
                setattr(instance, foreign_key.attname, related.pk if related is not None else None)
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
    # Most values go to psycopg as they are (read all at once); only the fields whose value Django changes on
    # the way in (JSON, stamps set on save, naive datetimes, fields not built in) are prepared, and choices
    # (enums) given as their value: preparing every field of every row cost more than the COPY itself.
    read = attrgetter(*(field.attname for field in fields))
    prepared = [(index, field) for index, field in enumerate(fields) if _prepared_for_copy(field)]
    choices = [index for index, field in enumerate(fields) if field.choices and not _prepared_for_copy(field)]
    # Stamps set on save get one time for the whole insert (one statement's rows, as a database default would);
    # other datetimes go as they are when aware or empty, a naive one through Django (made aware, with its
    # warning, as bulk_create does).
    now = timezone.now()
    stamped = [(index, field.attname) for index, field in enumerate(fields) if _stamped_on_insert(field)]
    dates = [
        (index, field)
        for index, field in enumerate(fields)
        if field.get_internal_type() == "DateTimeField" and not _stamped_on_insert(field)
    ]
    # The raw cursor's errors come out as Django's (IntegrityError...), as they do from bulk_create.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for instance in instances:
                row = list(read(instance)) if len(fields) > 1 else [read(instance)]
                for index, field in prepared:
                    row[index] = field.get_db_prep_save(field.pre_save(instance, True), connection)
                for index, attname in stamped:
                    setattr(instance, attname, now)
                    row[index] = now
                for index, field in dates:
                    value = row[index]
                    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                        row[index] = field.get_db_prep_save(value, connection)
                for index in choices:
                    row[index] = _plain(row[index])
                copy.write_row(row)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def rows_update(model: type[models.Model], instances: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write the values `fields` hold on `instances` (stored rows of `model`, each with its primary key) to their
    rows, as `bulk_update` does (the instances' values as they are: no `save()`, no signals, `auto_now` not
    applied). On PostgreSQL one `UPDATE ... FROM unnest(...)`, one array parameter per field whatever the number of
    rows; `bulk_update` builds a CASE of one WHEN per row for every field instead, which for a few dozen orders of
    some forty fields cost the ORM a second of CPU. Elsewhere it is `bulk_update`. Returns the rows updated."""
    if not instances:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(instances, fields)
    meta = model._meta
    quote = connection.ops.quote_name
    written: list[models.Field] = []
    for field in [meta.pk, *(meta.get_field(name) for name in fields)]:
        if not isinstance(field, models.Field) or not field.concrete:  # as bulk_update refuses them
            raise ValueError(f"rows_update() can only write columns of {model.__name__}: {field}")
        written.append(field)
    arrays = []
    for field in written:
        values = [getattr(instance, field.attname) for instance in instances]
        if _prepared_for_copy(field) or field.get_internal_type() == "DateTimeField":
            values = [
                value
                if isinstance(value, datetime) and value.tzinfo is not None
                else field.get_db_prep_save(value, connection)
                for value in values
            ]
        elif field.choices:
            values = [_plain(value) for value in values]
        arrays.append(values)
    table = quote(meta.db_table)
    columns = [quote(str(field.column)) for field in written]
    assignments = ", ".join(f"{column} = new.{column}" for column in columns[1:])
    unnested = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in written)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM unnest({unnested}) AS new({', '.join(columns)}) "  # noqa: S608 - quoted names of the model's own columns
            f"WHERE {table}.{columns[0]} = new.{columns[0]}",
            arrays,
        )
        return cursor.rowcount


class AnyOf(In):
    """`field__any_of=values`: `field IN values`, written on PostgreSQL as `field = ANY(%s)` with the values as
    one array parameter. The same rows as `__in`; the query text stays the same whatever the number of values,
    so the database driver does not re-parse a statement of thousands of placeholders on every call (intake
    looks up thousands of orders, listings and products per batch). Registered on every field by
    `ChannelManagerConfig.ready`."""

    lookup_name = "any_of"

    def get_prep_lookup(self):
        if self.rhs_is_direct_value() and all(type(value) in (int, str) for value in self.rhs):
            return list(self.rhs)  # ids and texts: nothing to prepare (thousands of calls a batch otherwise)
        return super().get_prep_lookup()

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql" or not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        values = OrderedSet(value for value in self.rhs if value is not None)
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if all(type(value) in (int, str) for value in values):
            return f"{lhs} = ANY(%s)", [*lhs_params, list(values)]
        _, params = self.batch_process_rhs(compiler, connection, values)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(params)]
