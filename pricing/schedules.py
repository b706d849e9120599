from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="Price sync planner",
        task="pricing.tasks.price_sync_tick_task",
        every_seconds=60,
        description="Sends every store's price changes to Walmart inside its limits and polls open feeds.",
    ),
]
