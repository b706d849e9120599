from channel_manager.schedules import PeriodicJob

SCHEDULES = [
    PeriodicJob(
        name="listings: poll item-match feeds",
        task="listings.tasks.match_feeds_poll_task",
        every_seconds=60,
        description="Poll open MP_ITEM_MATCH feeds and apply each item's result to its listing.",
    ),
    PeriodicJob(
        name="listings: reconcile items with Walmart",
        task="listings.tasks.listings_reconcile_task",
        every_seconds=3600,
        description="Read matched items back from Walmart: published status and reasons, lifecycle, item id.",
    ),
]
