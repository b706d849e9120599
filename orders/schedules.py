from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="orders: poll Walmart orders (each store at its own interval, 5 min by default)",
        task="orders.tasks.orders_poll_due_task",
        every_seconds=60,
        description="Starts the order poll of every store whose poll interval has elapsed (webhooks are faster).",
    ),
    PeriodicJob(
        name="orders: resend lost shipment/cancellation pushes and acknowledgements",
        task="orders.tasks.order_operations_due_task",
        every_seconds=60,
        description="Re-enqueues pending pushes whose task was lost; the pushes themselves are idempotent.",
    ),
]
