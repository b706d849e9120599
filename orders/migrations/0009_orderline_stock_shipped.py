"""Order intake moves stock through each store's reservations (`inventory.services.reservations_apply`): a line
records the shipped units it took out of the reservation (`stock_shipped`), and the units of orders already
stored that are neither shipped nor cancelled become the stores' open reservations.

Before, intake took an order's units out of the catalog's available quantity (`Product.quantity`) and gave
back what Walmart cancelled; that stays as it is (those units are already out of `Product.quantity`). What is
added here: per store and product, the units still open on stored lines (reserved - released - shipped, the
shipped ones recorded on the line so that they are not taken out again) are added to the store's reservation.
Safe on an empty database; reversing removes the field and leaves reservations as they are.
"""

from collections import defaultdict

from django.db import migrations, models
from django.db.models import F

CHUNK = 2000


def reservations_backfill(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    StockReservation = apps.get_model("inventory", "StockReservation")
    open_units: dict[tuple[int, int], int] = defaultdict(int)
    shipped_by_line: dict[int, int] = {}
    lines = (
        OrderLine.objects.filter(listing__isnull=False, stock_reserved__gt=0)
        .order_by("pk")
        .values_list(
            "pk",
            "order__store_id",
            "listing__product_id",
            "stock_reserved",
            "stock_released",
            "quantity_shipped",
            "quantity_delivered",
            "quantity_refunded",
        )
    )
    for pk, store_id, product_id, reserved, released, shipped, delivered, refunded in lines.iterator(chunk_size=CHUNK):
        held = max(0, reserved - released)
        shipped_units = min(shipped + delivered + refunded, held)
        if shipped_units:
            shipped_by_line[pk] = shipped_units
        if held - shipped_units:
            open_units[(store_id, product_id)] += held - shipped_units
    by_units: dict[int, list[int]] = defaultdict(list)
    for pk, units in shipped_by_line.items():
        by_units[units].append(pk)
    for units, pks in by_units.items():
        for start in range(0, len(pks), CHUNK):
            OrderLine.objects.filter(pk__in=pks[start : start + CHUNK]).update(stock_shipped=units)
    for (store_id, product_id), units in sorted(open_units.items()):
        updated = StockReservation.objects.filter(store_id=store_id, product_id=product_id).update(
            quantity=F("quantity") + units
        )
        if not updated:
            StockReservation.objects.create(store_id=store_id, product_id=product_id, quantity=units)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_method_sort_index"),
        ("inventory", "0006_stock_reservation"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderline",
            name="stock_shipped",
            field=models.PositiveIntegerField(
                default=0, help_text="Shipped units taken out of the store's reservation."
            ),
        ),
        migrations.RunPython(reservations_backfill, migrations.RunPython.noop),
    ]
