"""Seeding benchmark databases in SQL (PostgreSQL's generate_series): a million rows in seconds, where building
model instances takes minutes. Every column of the model is written: the given SQL expressions, NULL for a
nullable field, else the field's default (so a column added later by a migration needs no change here)."""

# SQL here is built from model table and column names only; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any


def columns_sql(model: Any, given: dict[str, tuple[str, list]]) -> tuple[str, str, list]:
    """(column list, select list, params in placeholder order) for every concrete column of `model` but its
    id: `given` maps a field name to (SQL expression, params)."""
    from django.db import connection

    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in given:
            expression, expression_params = given[field.name]
            values.append(expression)
            params.extend(expression_params)
        elif field.null:
            values.append("NULL")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    return ", ".join(columns), ", ".join(values), params


def rows_insert(cursor: Any, model: Any, given: dict[str, tuple[str, list]], source: str, source_params: list) -> None:
    """INSERT INTO the model's table SELECT the columns FROM `source` (e.g. "generate_series(1, %s) g")."""
    columns, values, params = columns_sql(model, given)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} FROM {source}", [*params, *source_params]
    )
