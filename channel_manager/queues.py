"""The Celery queues, one per kind of work (no Django here: the launcher reads it before Django starts).

- `intake`: order polls, webhook event processing, acknowledgements.
- `pushes`: operator actions sent to Walmart (ship, cancel, refund, retire).
- `sync`: the planner, feeds, single updates, reconciliation.
- `reads`: read-backs, reports, catalog and Walmart imports, the returns poll, the sweeper.

Tasks are routed by `CELERY_TASK_ROUTES` (channel_manager/settings/base.py). A worker started without
--queues consumes every queue (`make run`, the benchmarks); docker-compose runs one worker per queue, so a
flood of one kind (acknowledgements waiting for Walmart's budget, a big import) never starves the others.
"""

WORK_QUEUES = ("intake", "pushes", "sync", "reads")
DEFAULT_QUEUE = "celery"  # what no route names (the emulator's tasks: local and tests only)
ALL_QUEUES = (*WORK_QUEUES, DEFAULT_QUEUE)
