from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="Inventory sync planner",
        task="sync.tasks.inventory_sync_tick_task",
        every_seconds=60,
        description="Sends every store's quantity changes to Walmart inside its limits and polls open feeds.",
    ),
    PeriodicJob(
        name="Price sync planner",
        task="sync.tasks.price_sync_tick_task",
        every_seconds=60,
        description="Sends every store's price changes to Walmart inside its limits and polls open feeds.",
    ),
    PeriodicJob(
        name="Inventory and price reconciliation",
        task="sync.tasks.sync_reconcile_tick_task",
        every_seconds=3600,
        description="Reads Walmart's quantities and prices back, flags drift and re-asserts the catalog.",
    ),
]
