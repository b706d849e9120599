import django.db.models.functions.datetime
from django.db import migrations, models

from sync.due import due_triggers_drop_migration, due_triggers_install_migration


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_reconcile_progress"),
    ]

    # SQLite adds the column by rebuilding the dirty set's table, which the marking triggers on the other
    # tables name: they are dropped around it and installed again. Unapplied, they stay dropped (older
    # listings columns may follow): `migrate` installs them afresh when it ends (post_migrate).
    operations = [
        migrations.RunPython(due_triggers_drop_migration, migrations.RunPython.noop),
        migrations.AddField(
            model_name="listingsyncdue",
            name="due_since",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(),
                help_text="When the listing was marked due (kept while it is marked again, until a run finds it settled).",
            ),
        ),
        migrations.RunPython(due_triggers_install_migration, due_triggers_drop_migration),
    ]
