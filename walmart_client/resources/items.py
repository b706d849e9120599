"""Items API: the seller's items, item count, Walmart catalog search (for setup-by-match) and retire.

https://developer.walmart.com/us-marketplace/reference/getallitems
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from walmart_client.errors import WalmartNotFound
from walmart_client.models import CatalogItem, Item, RetireResult
from walmart_client.requestor import Requestor
from walmart_client.resources._common import path_part
from walmart_client.transport import Retry

DEFAULT_PAGE_SIZE = 50
MAX_CURSOR_PAGE_SIZE = 200  # "used for pagination when more than 200 items are retrieved" (2024-12 items spec)
COUNT_STATUSES = frozenset({"PUBLISHED", "UNPUBLISHED", "SYSTEM_PROBLEM", "IN_PROGRESS", "ALL"})
_FILTERS = {
    "sku": "sku",
    "lifecycle_status": "lifecycleStatus",
    "published_status": "publishedStatus",
    "variant_group_id": "variantGroupId",
    "condition": "condition",
}
_IDENTIFIER_LENGTHS = {"upc": (12,), "gtin": (14,), "ean": (13,), "isbn": (10, 13)}


def _item_records(data: Any) -> list[dict[str, Any]]:
    """The item list of a get/list answer: the example's `ItemResponse` list, the schema's
    `responseRecord` object, or a bare item (examples and live answers differ; accept all)."""
    if not data:
        return []
    if isinstance(data.get("ItemResponse"), list):
        return list(data["ItemResponse"])
    if isinstance(data.get("responseRecord"), dict):
        return [data["responseRecord"]]
    if data.get("sku"):
        return [data]
    return []


class Items:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def iter_all(self, *, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> Iterator[Item]:
        """Every seller item matching the filters (`lifecycle_status`, `published_status`, `sku`, ...).
        Starts with `nextCursor=*` and echoes each returned `nextCursor`; stops on a page without one, an
        empty page or a repeated cursor (a cursor that does not move would loop forever)."""
        cursor: str | None = "*"
        while cursor is not None:
            items, cursor = self.page(cursor=cursor, page_size=page_size, **filters)
            yield from items

    def page(
        self, *, cursor: str = "*", page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> tuple[list[Item], str | None]:
        """One page of the seller's items from `cursor` (`*`: the first page): its items and the cursor of
        the next page, None after the last one (also on an empty page or a repeated cursor)."""
        if not 1 <= page_size <= MAX_CURSOR_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_CURSOR_PAGE_SIZE}")
        params: dict[str, Any] = {}
        for name, value in filters.items():
            if name not in _FILTERS:
                raise TypeError(f"unknown item filter {name!r}")
            params[_FILTERS[name]] = value
        data = self._requestor.get_or_none(
            "/v3/items", family="items.list", params={**params, "nextCursor": cursor, "limit": page_size}
        )
        records = _item_records(data)
        next_cursor = (data or {}).get("nextCursor")
        if not records or not next_cursor or next_cursor == cursor:
            next_cursor = None
        return [Item.from_api(record) for record in records], next_cursor

    def get(self, sku: str) -> Item:
        """One seller item by SKU. Raises WalmartNotFound."""
        data = self._requestor.get(f"/v3/items/{path_part(sku)}", family="items.get", params={"productIdType": "SKU"})
        records = _item_records(data)
        if not records:
            raise WalmartNotFound("Walmart returned no item", status=200, endpoint="GET /v3/items/{id}")
        return Item.from_api(records[0])

    def count(self, status: str = "ALL") -> int:
        """How many items are in `status` (PUBLISHED, UNPUBLISHED, SYSTEM_PROBLEM, IN_PROGRESS, ALL)."""
        if status not in COUNT_STATUSES:
            raise ValueError(f"status must be one of {sorted(COUNT_STATUSES)}")
        data = self._requestor.get("/v3/items/count", family="items.count", params={"status": status})
        if isinstance(data, int):
            return data
        if isinstance(data, dict) and data:
            # The examples key the count by the status, "All" for ALL.
            for key, value in data.items():
                if key.upper() == status:
                    return int(value)
            return int(next(iter(data.values())))
        raise ValueError("Walmart's item count answer has no count")

    def search(
        self,
        *,
        upc: str | None = None,
        gtin: str | None = None,
        ean: str | None = None,
        isbn: str | None = None,
        query: str | None = None,
    ) -> list[CatalogItem]:
        """Walmart catalog items matching one identifier (or a keyword query). An empty list when Walmart
        has no match (it answers `{}` or 404). `ean`/`isbn` are 2026 additions not in the 2024 spec."""
        given = {k: v for k, v in {"upc": upc, "gtin": gtin, "ean": ean, "isbn": isbn, "query": query}.items() if v}
        if len(given) != 1:
            raise ValueError("search by exactly one of upc, gtin, ean, isbn or query")
        ((name, value),) = given.items()
        if name in _IDENTIFIER_LENGTHS:
            value = str(value).strip()
            if not value.isdigit() and not (name == "isbn" and value[:-1].isdigit() and value[-1] in "xX"):
                raise ValueError(f"{name} must be digits, got {value!r}")
            if len(value) not in _IDENTIFIER_LENGTHS[name]:
                raise ValueError(f"{name} must have {' or '.join(map(str, _IDENTIFIER_LENGTHS[name]))} digits")
        data = self._requestor.get_or_none("/v3/items/walmart/search", family="items.search", params={name: value})
        return [CatalogItem.from_api(i) for i in (data or {}).get("items") or [] if isinstance(i, dict)]

    def retire(self, sku: str) -> RetireResult:
        """Retire (unpublish and deactivate) an item. Retrying a retire is harmless but this is a write:
        it is not retried after the request may have been sent."""
        data = self._requestor.request(
            "DELETE", f"/v3/items/{path_part(sku)}", family="items.retire", retry=Retry.WRITE
        )
        data = data or {}
        return RetireResult(sku=str(data.get("sku") or sku), message=data.get("message"))
