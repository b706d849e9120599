"""Offer.reserved_quantity (reservedQty), and Offer.quantity now means inputQty.

Before, `quantity` held what was left to sell (orders took from it). The data step keeps every offer's
availability unchanged: reservedQty = the open (Created + Acknowledged) quantity of the seller's order
lines for the SKU, and inputQty = the old quantity + reservedQty.
"""

from django.db import migrations, models
from django.db.models import F, Sum


def reservations_backfill(apps, schema_editor):
    Offer = apps.get_model("walmart_emulator", "Offer")
    LineStatus = apps.get_model("walmart_emulator", "LineStatus")
    open_units = (
        LineStatus.objects.filter(status__in=["Created", "Acknowledged"])
        .values("line__order__seller_id", "line__sku")
        .annotate(units=Sum("quantity"))
    )
    for row in open_units.iterator():
        Offer.objects.filter(seller_id=row["line__order__seller_id"], sku=row["line__sku"]).update(
            reserved_quantity=row["units"], quantity=F("quantity") + row["units"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("walmart_emulator", "0002_order_snapshot_bucket_epoch"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="reserved_quantity",
            field=models.PositiveIntegerField(
                default=0, help_text="reservedQty: units customers ordered that are neither shipped nor cancelled."
            ),
        ),
        migrations.AlterField(
            model_name="offer",
            name="quantity",
            field=models.IntegerField(
                default=0,
                help_text="inputQty: every unit at the default node, including units sold and not yet shipped "
                "(what PUT /v3/inventory and the inventory feed set).",
            ),
        ),
        migrations.RunPython(reservations_backfill, migrations.RunPython.noop),
    ]
