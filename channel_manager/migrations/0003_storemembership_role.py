from django.db import migrations, models

ROLE_CHOICES = [
    ("viewer", "Viewer (read only)"),
    ("operator", "Operator (ship, cancel, refund, listing actions)"),
    ("manager", "Manager (store settings, credentials, members)"),
]


class Migration(migrations.Migration):
    """Existing members could do everything in their store: they become its managers. New ones start as
    viewers."""

    dependencies = [
        ("channel_manager", "0002_store_name_unique_per_member"),
    ]

    operations = [
        migrations.AddField(
            model_name="storemembership",
            name="role",
            field=models.CharField(choices=ROLE_CHOICES, default="manager", max_length=20),
        ),
        migrations.AlterField(
            model_name="storemembership",
            name="role",
            field=models.CharField(choices=ROLE_CHOICES, default="viewer", max_length=20),
        ),
    ]
