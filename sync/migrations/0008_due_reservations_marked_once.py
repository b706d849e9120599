"""The reservation trigger's function no longer marks a listing whose inventory row its own (sub)transaction
already marked (the product trigger, in the same stock move): reinstalled here. Unapplied, the triggers stay
dropped, as after 0005 and 0007 (older listings columns may follow): `migrate` installs them afresh when it
ends (post_migrate)."""

from django.db import migrations

from sync.due import due_triggers_drop_migration, due_triggers_install_migration


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0007_due_keys_indexes_covered"),
    ]

    operations = [
        migrations.RunPython(due_triggers_install_migration, due_triggers_drop_migration),
    ]
