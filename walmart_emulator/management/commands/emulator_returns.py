"""manage.py emulator_returns --seller S [--count N]"""

from django.core.management.base import BaseCommand, CommandError

from walmart_emulator.models import Seller
from walmart_emulator.returns import ReturnSimulationError, return_simulate


class Command(BaseCommand):
    help = "Customers return shipped or delivered quantity of a seller's orders."

    def add_arguments(self, parser):
        parser.add_argument("--seller", required=True, help="Seller name or client id.")
        parser.add_argument("--count", type=int, default=1)

    def handle(self, *args, seller: str, count: int, **options):
        account = Seller.objects.filter(name=seller).first() or Seller.objects.filter(client_id=seller).first()
        if account is None:
            raise CommandError(f"No emulated seller named '{seller}'.")
        made = 0
        for _ in range(count):
            try:
                return_order = return_simulate(seller=account)
            except ReturnSimulationError as error:
                self.stdout.write(f"Stopped: {error}")
                break
            made += 1
            self.stdout.write(f"Return {return_order.return_order_id} for PO {return_order.order.purchase_order_id}")
        self.stdout.write(f"{made} return{'s' if made != 1 else ''} initiated.")
