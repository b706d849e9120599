"""`make run`'s settings with the emulator's rate limits lifted for the families an import from Walmart reads
(bench/bench_walmart_import.py): its figures are then the product's and the emulator's own cost."""

import os

from channel_manager.settings.local import *  # noqa: F403

WALMART_EMULATOR_RATE_LIMITS = {
    family: {"count": 10**9, "seconds": 1}
    for family in ("items_list", "items_read", "inventory_read", "reports", "reports_read", "settings", "token")
}

if os.environ.get("BENCH_REFUSE_INVENTORY_REPORT"):
    # --inventories-listing: the INVENTORY report keeps Walmart's one an hour (the run uses it up beforehand).
    WALMART_EMULATOR_RATE_LIMITS["reports:INVENTORY"] = {"count": 1, "seconds": 3600}
