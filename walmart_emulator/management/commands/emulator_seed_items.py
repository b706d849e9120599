"""manage.py emulator_seed_items --items N [--seller NAME] [--seed S] [--start I] [--not-live] [--plan-csv PATH]"""

import csv
import time

from django.core.management.base import BaseCommand, CommandError

from walmart_emulator import services
from walmart_emulator.models import Seller
from walmart_emulator.seeding import seed_plan, seller_items_seed


class Command(BaseCommand):
    help = (
        "Give an emulated Walmart seller N pre-existing items (a seller who already sells on Walmart); "
        "optionally write the plan a product catalog can be built from."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, required=True, help="How many items to seed.")
        parser.add_argument("--seller", default="Existing Walmart seller", help="Seller name (reused when it exists).")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the identifiers and the mix (default 0).")
        parser.add_argument("--start", type=int, default=0, help="Index of the first item (to add more later).")
        parser.add_argument("--not-live", action="store_true", help="A new seller is not live: items are staged.")
        parser.add_argument(
            "--plan-csv",
            help="Write one row per item: Walmart SKU, kind, catalog SKUs, identifier type and value, title, price.",
        )

    def handle(self, *args, items: int, seller: str, seed: int, start: int, not_live: bool, plan_csv, **options):
        if items < 0 or start < 0:
            raise CommandError("--items and --start must be >= 0")
        account = Seller.objects.filter(name=seller).first()
        created_seller = account is None
        if account is None:
            account = services.seller_create(name=seller, is_live=not not_live)
        started = time.perf_counter()
        try:
            result = seller_items_seed(seller=account, count=items, seed=seed, start=start)
        except ValueError as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Seller: {account.name} ({'created' if created_seller else 'existing'}), partner id {account.partner_id}"
        )
        self.stdout.write(f"Client ID: {account.client_id}")
        self.stdout.write(f"Client secret: {account.client_secret}")
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(result.by_kind.items()))
        self.stdout.write(
            f"Items: {result.created} created, {result.skipped} already there, in {elapsed:.1f} s ({kinds or 'none'})"
        )
        if plan_csv:
            with open(plan_csv, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    ["walmart_sku", "kind", "catalog_skus", "id_type", "product_id", "gtin", "title", "price"]
                )
                for item in seed_plan(count=items, seed=seed, start=start, is_live=account.is_live):
                    writer.writerow(
                        [
                            item.sku,
                            item.kind,
                            " ".join(item.catalog_skus),
                            item.id_type,
                            item.product_id,
                            item.gtin,
                            item.title,
                            f"{item.price:.2f}",
                        ]
                    )
            self.stdout.write(f"Plan written to {plan_csv}")
