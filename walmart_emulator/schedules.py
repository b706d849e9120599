"""Periodic jobs of the emulator (synced into django-celery-beat on migrate)."""

from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="walmart_emulator: apply due changes",
        task="walmart_emulator.tasks.emulator_sweep_task",
        every_seconds=30,
        description="Emulated Walmart: process due feeds, deliver shipped orders, auto-cancel, auto-refund returns.",
    ),
    PeriodicJob(
        name="walmart_emulator: demo order trickle",
        task="walmart_emulator.tasks.emulator_order_trickle_task",
        every_seconds=120,
        description="Emulated Walmart: one customer order for each seller flagged simulate_orders (the demo).",
    ),
]
