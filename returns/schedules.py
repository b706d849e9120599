from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="returns: read Walmart returns (each store at its own interval, 15 min by default)",
        task="returns.tasks.returns_poll_due_task",
        every_seconds=60,
        description="Starts the returns read of every store whose interval (Channel Settings > Returns) has elapsed.",
    ),
]
