"""The database column of a model field, for the statements written as SQL (bulk writes, COPY)."""

from django.db.models import Field, ForeignObjectRel


def column_name(field: Field | ForeignObjectRel) -> str:
    """`field`'s column in its model's table. Raises ValueError for a field stored in no column there (a
    reverse relation, a many-to-many)."""
    if isinstance(field, Field) and field.column:
        return field.column
    raise ValueError(f"{field} has no column in its model's table")
