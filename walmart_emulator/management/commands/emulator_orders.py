"""manage.py emulator_orders --seller S --count N [--rate R]"""

import time

from django.core.management.base import BaseCommand, CommandError

from walmart_emulator.models import Seller
from walmart_emulator.orders import OrderSimulationError, order_simulate


class Command(BaseCommand):
    help = "Place simulated customer orders for a seller's published offers with stock."

    def add_arguments(self, parser):
        parser.add_argument("--seller", required=True, help="Seller name or client id.")
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--rate", type=float, default=0.0, help="Orders per minute (0: as fast as possible).")

    def handle(self, *args, seller: str, count: int, rate: float, **options):
        account = Seller.objects.filter(name=seller).first() or Seller.objects.filter(client_id=seller).first()
        if account is None:
            raise CommandError(f"No emulated seller named '{seller}'.")
        placed = 0
        for index in range(count):
            try:
                order = order_simulate(seller=account)
            except OrderSimulationError as error:
                self.stdout.write(f"Stopped: {error}")
                break
            placed += 1
            lines = ", ".join(f"{line.sku} x{line.quantity}" for line in order.lines.all())
            self.stdout.write(f"PO {order.purchase_order_id}: {lines}")
            if rate > 0 and index < count - 1:
                time.sleep(60.0 / rate)
        self.stdout.write(f"{placed} order{'s' if placed != 1 else ''} placed.")
