"""Walmart's inventory semantics at a seller's default ship node, as the emulator models them.

What Walmart documents (developer.walmart.com, pages read in 2026):
- us-marketplace/docs/get-all-item-inventories-for-all-ship-nodes-beta and
  us-marketplace/docs/get-single-item-inventory-by-ship-node-beta (same words on
  ca-marketplace/docs/get-and-update-item-inventory-per-ship-node): `inputQty` is the total item inventory
  *including items that are sold but not yet shipped*; `availToSellQty` is the inventory available for
  purchase only (sold-but-not-shipped units do not show in it); `reservedQty` is the count of items sold but
  not yet shipped.
- ca-marketplace/docs/about-fulfillment-centers-aka-ship-nodes ("Verify inventory available to sell"): after a
  sale, until the units leave the fulfillment center, checking the item's inventory still shows the total
  inventory, although less is available. So `GET /v3/inventory` answers `inputQty`.
- The `GET /v3/inventories` examples (the 2024-12 inventory spec; global-marketplace/docs/return-10-items):
  inputQty 100, availToSellQty 95, reservedQty 5, i.e. available = input - reserved.
- us-marketplace/docs/inventory-api-overview: `PUT /v3/inventory` (default node), `PUT /v3/inventories/{sku}`
  (per node) and the bulk inventory feed update the seller's quantity, i.e. `inputQty`.

The rules that follow, one function each below:
- the seller sets `inputQty` (PUT, per-node PUT, inventory feed); `reservedQty` is untouched;
- a customer order reserves: `reservedQty` goes up; an order for more than `availToSellQty` is refused;
- a shipment: `inputQty` and `reservedQty` both go down by the shipped units (the units have left);
- a cancellation (by the seller, at the customer's request, or Walmart's auto-cancel): `reservedQty` goes
  down, `inputQty` is unchanged, so the units are available to sell again;
- delivery, returns and refunds change nothing (a returned unit is sellable only when the seller raises
  `inputQty` again).

Not documented by Walmart, the emulator's choices: `inputQty` set below `reservedQty` shows `availToSellQty`
0 (never negative), and a shipment never takes `inputQty` below zero.

`Offer.quantity` holds `inputQty` and `Offer.reserved_quantity` holds `reservedQty`; every change to an
order line's open quantity calls one of the functions below in the same transaction, so `reservedQty`
always equals the open (Created + Acknowledged) quantity of the seller's order lines for that SKU.
"""

from collections.abc import Mapping

from django.db.models import F
from django.db.models.functions import Greatest

from walmart_emulator.models import Offer, Seller
from walmart_emulator.serializers import quantity_json


def _by_sku(quantities: Mapping[str, int]) -> dict[str, int]:
    return {sku: quantity for sku, quantity in quantities.items() if quantity}


def inventory_reserve(*, seller: Seller, quantities: Mapping[str, int]) -> None:
    """Units ordered by a customer (sku -> units): reservedQty goes up. The caller has checked, under the
    offers' row locks, that each SKU has that many units available to sell."""
    for sku, quantity in _by_sku(quantities).items():
        Offer.objects.filter(seller=seller, sku=sku).update(reserved_quantity=F("reserved_quantity") + quantity)


def inventory_ship(*, seller: Seller, quantities: Mapping[str, int]) -> None:
    """Units shipped (sku -> units): inputQty and reservedQty go down (neither below zero)."""
    for sku, quantity in _by_sku(quantities).items():
        Offer.objects.filter(seller=seller, sku=sku).update(
            quantity=Greatest(F("quantity") - quantity, 0),
            reserved_quantity=Greatest(F("reserved_quantity") - quantity, 0),
        )


def inventory_release(*, seller: Seller, quantities: Mapping[str, int]) -> None:
    """Units cancelled (sku -> units): reservedQty goes down; inputQty is unchanged."""
    for sku, quantity in _by_sku(quantities).items():
        Offer.objects.filter(seller=seller, sku=sku).update(
            reserved_quantity=Greatest(F("reserved_quantity") - quantity, 0)
        )


def inventory_node_json(offer: Offer, ship_node: str) -> dict:
    """One node of `GET /v3/inventories` / `GET /v3/inventories/{sku}`."""
    return {
        "shipNode": ship_node,
        "inputQty": quantity_json(offer.quantity),
        "availToSellQty": quantity_json(offer.available_to_sell),
        "reservedQty": quantity_json(offer.reserved_quantity),
    }
