"""The soak: the production shape on loopback (PostgreSQL, Redis, gunicorn with the Walmart emulator, Celery
workers per queue group, one beat) under load and faults, then Walmart's truth against the product's: is
anything lost, done twice or stuck? `make soak` (about 35 minutes) or `make soak QUICK=1` (under 10).

Modules: run (the run, in order), servers (PostgreSQL and Redis, given or its own), stack (gunicorn,
workers, beat), world (the seller, catalog, store and listings), drivers (customers, catalog managers and
operators at set rates), faults (the fault phases), requestlog (Walmart's log of writes), truth (reads both
sides) and checks (the pure comparisons, unit-tested in tests/soak), report (table and JSON).
"""
