"""Migration operations of the project's own.

`AddIndexConcurrently`: an index on a table that may hold millions of rows in production (a plain
CREATE INDEX locks the table against writes while it builds: stock moves and order intake would wait
seconds to minutes). On PostgreSQL it runs CREATE INDEX CONCURRENTLY, which lets writes go on (the migration
that uses it must say `atomic = False`: CONCURRENTLY cannot run in a transaction); other databases get a
plain CREATE INDEX, so SQLite keeps working. Django's own `django.contrib.postgres.operations` version
refuses every database but PostgreSQL.

`DropIndexConcurrently`: the same care for dropping an index Django made for a field (which the models'
state does not list by name), for an index no query uses that costs every write.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex
from django.db.migrations.operations.base import Operation


def _concurrently(operation: Operation, schema_editor) -> bool:
    """Whether `operation` runs CONCURRENTLY: on PostgreSQL, which refuses it inside a transaction."""
    if schema_editor.connection.vendor != "postgresql":
        return False
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{type(operation).__name__} cannot run in a transaction: set `atomic = False` on the migration."
        )
    return True


class AddIndexConcurrently(AddIndex):
    """AddIndex, built CONCURRENTLY on PostgreSQL (dropped CONCURRENTLY when migrating back)."""

    atomic = False

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _concurrently(self, schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _concurrently(self, schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
        return None

    def describe(self) -> str:
        return super().describe() + " (concurrently on PostgreSQL)"


class DropIndexConcurrently(Operation):
    """Drop an index the models' state does not name (one Django made for a field, such as the `_like`
    pattern index of a unique CharField), CONCURRENTLY on PostgreSQL (the migration must say
    `atomic = False`), a plain DROP INDEX elsewhere; IF EXISTS, so a database without it is fine. Migrating
    back builds it again from `definition` (the columns and operator class in parentheses), after dropping a
    copy left invalid by an interrupted concurrent build (IF NOT EXISTS would keep that one). `vendor`: the only
    database that has the index (Django's `_like` indexes are PostgreSQL's), others skipped both ways."""

    reduces_to_sql = False
    reversible = True
    atomic = False

    def __init__(self, *, model_name: str, name: str, definition: str, vendor: str | None = None) -> None:
        self.model_name = model_name
        self.name = name
        self.definition = definition
        self.vendor = vendor

    def deconstruct(self):
        keywords = {"model_name": self.model_name, "name": self.name, "definition": self.definition}
        if self.vendor is not None:
            keywords["vendor"] = self.vendor
        return (self.__class__.__name__, [], keywords)

    def _applies(self, schema_editor, model) -> bool:
        if self.vendor is not None and schema_editor.connection.vendor != self.vendor:
            return False
        return self.allow_migrate_model(schema_editor.connection.alias, model)

    def state_forwards(self, app_label, state) -> None:
        pass

    def _drop(self, schema_editor) -> None:
        concurrently = _concurrently(self, schema_editor)
        schema_editor.execute(
            f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {schema_editor.quote_name(self.name)}"
        )

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if self._applies(schema_editor, from_state.apps.get_model(app_label, self.model_name)):
            self._drop(schema_editor)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self._applies(schema_editor, model):
            return
        self._drop(schema_editor)
        concurrently = _concurrently(self, schema_editor)
        schema_editor.execute(
            f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}{schema_editor.quote_name(self.name)} "
            f"ON {schema_editor.quote_name(model._meta.db_table)} {self.definition}"
        )

    def describe(self) -> str:
        return f"Drop index {self.name} of {self.model_name} (concurrently on PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_{self.name.lower()}"
