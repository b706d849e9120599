from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="orders: poll Walmart orders (each store at its own interval, 5 min by default)",
        task="orders.tasks.orders_poll_due_task",
        every_seconds=60,
        description="Starts the order poll of every store whose poll interval has elapsed (webhooks are faster).",
    ),
]
