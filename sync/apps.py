from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
        post_migrate.connect(_due_triggers_installed, sender=self, dispatch_uid="sync_due_triggers")


def _due_triggers_installed(sender, *, using: str = "default", **kwargs) -> None:
    """After every migrate: (re)install the dirty set's triggers (`sync.due`); SQLite drops a table's
    triggers whenever a migration rebuilds the table."""
    from sync.due import due_triggers_install

    due_triggers_install(using=using)
