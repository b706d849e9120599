"""Signals the pricing app sends, so the sync engine above it hears of changes without pricing importing it.

- `price_rule_changed`: `send(sender, store_id: int)` inside the transaction that saved a store's price rule;
  every listing of the store may now have another desired price.
"""

from django.dispatch import Signal

price_rule_changed = Signal()
