"""Signals of the core, for the apps above it (a lower layer never imports a higher one).

- `store_connected(sender=Store, store=Store)`: a connection test of `store` succeeded (sent after the outcome
  is saved).
"""

from django.dispatch import Signal

store_connected = Signal()
