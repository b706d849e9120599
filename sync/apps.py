from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Inventory and price sync"

    def ready(self) -> None:
        from channel_manager.work import sweep_register
        from listings.signals import products_changed
        from pricing.signals import price_rule_changed
        from sync import receivers
        from sync.services import sync_sweep

        products_changed.connect(receivers.products_changed_received, dispatch_uid="sync_planner_nudge")
        price_rule_changed.connect(receivers.price_rule_changed_received, dispatch_uid="sync_price_rule_nudge")
        sweep_register("sync.sends", sync_sweep)
