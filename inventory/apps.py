from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self) -> None:
        from inventory import receivers
        from listings.signals import product_quantities_set

        product_quantities_set.connect(
            receivers.product_quantities_set_received, dispatch_uid="inventory_stock_movements"
        )
