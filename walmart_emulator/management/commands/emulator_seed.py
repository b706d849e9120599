"""manage.py emulator_seed --items N [--seller NAME] [--not-live] [--simulate-orders] [--seed S]"""

from django.core.management.base import BaseCommand, CommandError

from walmart_emulator import services
from walmart_emulator.models import Seller


class Command(BaseCommand):
    help = "Create (or reuse) an emulated Walmart seller and add N catalog items with valid UPC/GTIN."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, required=True, help="How many catalog items to add.")
        parser.add_argument("--seller", default="Emulated seller", help="Seller name (reused when it exists).")
        parser.add_argument("--not-live", action="store_true", help="The seller is not live: matches are staged.")
        parser.add_argument("--simulate-orders", action="store_true", help="Include it in the demo order trickle.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed for reproducible identifiers.")

    def handle(self, *args, items: int, seller: str, not_live: bool, simulate_orders: bool, seed, **options):
        if items < 0:
            raise CommandError("--items must be >= 0")
        account = Seller.objects.filter(name=seller).first()
        created = account is None
        if account is None:
            account = services.seller_create(name=seller, is_live=not not_live, simulate_orders=simulate_orders)
        start = services.CatalogItem.objects.count()
        catalog = services.catalog_seed(count=items, seed=seed, start_index=start) if items else []
        self.stdout.write(
            f"Seller: {account.name} ({'created' if created else 'existing'}), partner id {account.partner_id}"
        )
        self.stdout.write(f"Client ID: {account.client_id}")
        self.stdout.write(f"Client secret: {account.client_secret}")
        self.stdout.write(
            f"Catalog items: {len(catalog)} seeded (catalog holds {services.CatalogItem.objects.count()})"
        )
        for item in catalog[:5]:
            self.stdout.write(f"  UPC {item.upc}  GTIN {item.gtin}  {item.title}")
