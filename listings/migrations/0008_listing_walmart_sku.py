"""Listing.walmart_sku: the SKU of the offer on Walmart, filled with the product's SKU for existing listings
(one UPDATE), then unique per store."""

from django.db import migrations, models


def walmart_sku_backfill(apps, schema_editor):
    Listing = apps.get_model("listings", "Listing")
    Product = apps.get_model("listings", "Product")
    Listing.objects.filter(walmart_sku="").update(
        walmart_sku=models.Subquery(Product.objects.filter(pk=models.OuterRef("product_id")).values("sku")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("channel_manager", "0003_storemembership_role"),
        ("listings", "0007_listing_error_sort_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="listing",
            name="walmart_sku",
            field=models.CharField(default="", max_length=50, verbose_name="Walmart SKU"),
            preserve_default=False,
        ),
        migrations.RunPython(walmart_sku_backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="listing",
            name="walmart_sku",
            field=models.CharField(
                help_text="The SKU of this offer on Walmart (default: the product's SKU).",
                max_length=50,
                verbose_name="Walmart SKU",
            ),
        ),
        migrations.AddConstraint(
            model_name="listing",
            constraint=models.UniqueConstraint(
                fields=("store", "walmart_sku"), name="unique_listing_per_store_walmart_sku"
            ),
        ),
        migrations.AddConstraint(
            model_name="listing",
            constraint=models.CheckConstraint(
                condition=models.Q(("walmart_sku", ""), _negated=True), name="listing_walmart_sku_not_empty"
            ),
        ),
    ]
