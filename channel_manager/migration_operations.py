"""Migration operations of the project's own.

`AddIndexConcurrently`: an index on a table that may hold millions of rows in production (a plain
CREATE INDEX locks the table against writes while it builds: stock moves and order intake would wait
seconds to minutes). On PostgreSQL it runs CREATE INDEX CONCURRENTLY, which lets writes go on (the migration
that uses it must say `atomic = False`: CONCURRENTLY cannot run in a transaction); other databases get a
plain CREATE INDEX, so SQLite keeps working. Django's own `django.contrib.postgres.operations` version
refuses every database but PostgreSQL.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex


class AddIndexConcurrently(AddIndex):
    """AddIndex, built CONCURRENTLY on PostgreSQL (dropped CONCURRENTLY when migrating back)."""

    atomic = False

    def _concurrently(self, schema_editor) -> bool:
        if schema_editor.connection.vendor != "postgresql":
            return False
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                "AddIndexConcurrently cannot run in a transaction: set `atomic = False` on the migration."
            )
        return True

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not self._concurrently(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not self._concurrently(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
        return None

    def describe(self) -> str:
        return super().describe() + " (concurrently on PostgreSQL)"
