"""Inventory API: one SKU (default ship node or a given one), multi-node updates, and all inventories.

https://developer.walmart.com/us-marketplace/reference/getinventory
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from walmart_client.models import Inventory, NodeUpdateResult
from walmart_client.requestor import Requestor
from walmart_client.resources._common import check_quantity, path_part
from walmart_client.transport import Retry

MAX_PAGE_SIZE = 50


class InventoryResource:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def get(self, sku: str, *, ship_node: str | None = None) -> Inventory:
        """Quantity of one SKU. Raises WalmartNotFound."""
        data = self._requestor.get("/v3/inventory", family="inventory.get", params={"sku": sku, "shipNode": ship_node})
        return Inventory.from_api(data, ship_node=ship_node)

    def update(self, sku: str, quantity: int, *, ship_node: str | None = None) -> Inventory:
        """Set the quantity of one SKU (absolute, not a delta; safe to repeat with the same value).
        Raises ValueError for a negative or non-integer quantity, before sending."""
        check_quantity(quantity, what="quantity", allow_zero=True)
        if not sku:
            raise ValueError("sku is required")
        data = self._requestor.request(
            "PUT",
            "/v3/inventory",
            family="inventory.update",
            retry=Retry.WRITE,
            params={"sku": sku, "shipNode": ship_node},
            json_body={"sku": sku, "quantity": {"unit": "EACH", "amount": quantity}},
        )
        return Inventory.from_api(data or {"sku": sku, "quantity": {"amount": quantity}}, ship_node=ship_node)

    def update_nodes(self, sku: str, quantities: Mapping[str, int]) -> list[NodeUpdateResult]:
        """Set the quantity of one SKU at several ship nodes. Walmart may accept some nodes and reject
        others: check each result's `succeeded`."""
        if not quantities:
            raise ValueError("at least one ship node is required")
        nodes = []
        for node, quantity in quantities.items():
            check_quantity(quantity, what=f"quantity at ship node {node}", allow_zero=True)
            nodes.append({"shipNode": str(node), "inputQty": {"unit": "EACH", "amount": quantity}})
        data = self._requestor.request(
            "PUT",
            f"/v3/inventories/{path_part(sku)}",
            family="inventory.update_nodes",
            retry=Retry.WRITE,
            json_body={"inventories": {"nodes": nodes}},
        )
        return [NodeUpdateResult.from_api(n) for n in (data or {}).get("nodes") or []]

    def page(self, *, cursor: str | None = None, page_size: int = MAX_PAGE_SIZE) -> tuple[list[Inventory], str | None]:
        """One page of every SKU at every ship node, from `cursor` (None: the first page): its inventories
        (one per SKU and node) and the cursor of the next page, None after the last one (also when Walmart
        answers an empty page or gives the same cursor back: a cursor that does not move would loop)."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        data = (
            self._requestor.get_or_none(
                "/v3/inventories", family="inventory.list", params={"limit": page_size, "nextCursor": cursor}
            )
            or {}
        )
        records = (data.get("elements") or {}).get("inventories") or []
        inventories = [
            Inventory.from_node(str(record["sku"]), node) for record in records for node in record.get("nodes") or []
        ]
        next_cursor = (data.get("meta") or {}).get("nextCursor")
        if not records or not next_cursor or next_cursor == cursor:
            next_cursor = None
        return inventories, next_cursor

    def iter_all(self, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[Inventory]:
        """Every SKU at every ship node (one `Inventory` per SKU and node). Follows `meta.nextCursor`,
        which changes on every page."""
        cursor: str | None = None
        while True:
            inventories, cursor = self.page(cursor=cursor, page_size=page_size)
            yield from inventories
            if cursor is None:
                return
