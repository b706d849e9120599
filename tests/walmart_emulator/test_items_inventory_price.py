"""Items (list, get, retire, search), inventory and price endpoints, validated against Walmart's specs."""

import pytest

from tests.walmart_emulator.factories import catalog_item, published_offer
from tests.walmart_emulator.spec import assert_matches_spec, assert_valid, requires_specs, schema_at
from walmart_emulator.models import Offer

pytestmark = [pytest.mark.django_db, requires_specs]


def test_items_are_paged_by_cursor_until_no_cursor(wm, seller):
    for index in range(1, 6):
        published_offer(seller, f"SKU-{index}", index=index)
    seen, cursor = [], "*"
    while cursor:
        body = wm.get("/v3/items", {"nextCursor": cursor, "limit": 2}).json()
        assert_matches_spec("items", "/v3/items", "get", "200", body)
        assert body["totalItems"] == 5
        seen += [item["sku"] for item in body["ItemResponse"]]
        cursor = body.get("nextCursor")
    assert seen == ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5"]


def test_items_by_offset_and_filters(wm, seller):
    published_offer(seller, "SKU-1", index=1)
    published_offer(seller, "SKU-2", index=2)
    Offer.objects.filter(sku="SKU-2").update(published_status="UNPUBLISHED")
    assert [item["sku"] for item in wm.get("/v3/items", {"offset": 1, "limit": 1}).json()["ItemResponse"]] == ["SKU-2"]
    body = wm.get("/v3/items", {"publishedStatus": "UNPUBLISHED"}).json()
    assert [item["sku"] for item in body["ItemResponse"]] == ["SKU-2"]
    assert "nextCursor" not in body


def test_items_offset_limit_above_50_is_400(wm, seller):
    response = wm.get("/v3/items", {"offset": 0, "limit": 51})
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == "limit"


def test_get_item_by_sku_and_by_gtin(wm, seller):
    offer = published_offer(seller, "SKU/1 a", index=1)
    body = wm.get("/v3/items/SKU%2F1%20a", {"productIdType": "SKU"}).json()
    assert_matches_spec("items", "/v3/items/{id}", "get", "200", body)
    assert body["ItemResponse"][0]["wpid"] == offer.wpid
    assert (
        wm.get(f"/v3/items/{offer.catalog_item.gtin}", {"productIdType": "GTIN"}).json()["ItemResponse"][0]["sku"]
        == "SKU/1 a"
    )


def test_get_item_needs_product_id_type_and_404s_when_unknown(wm, seller):
    assert wm.get("/v3/items/SKU-1").status_code == 400
    response = wm.get("/v3/items/SKU-1", {"productIdType": "SKU"})
    assert response.status_code == 404
    assert response.json()["errors"]["error"][0]["code"] == "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API"


def test_retire_item(wm, seller):
    published_offer(seller, "SKU-1")
    response = wm.delete("/v3/items/SKU-1")
    assert response.status_code == 200
    assert_matches_spec("items", "/v3/items/{SKU}", "delete", "200", response.json())
    offer = Offer.objects.get(sku="SKU-1")
    assert (offer.lifecycle_status, offer.published_status) == ("RETIRED", "UNPUBLISHED")
    assert wm.delete("/v3/items/NOPE").status_code == 404


def test_walmart_catalog_search_by_upc_gtin_and_keyword(wm, seller):
    item = catalog_item(7)
    body = wm.get("/v3/items/walmart/search", {"upc": item.upc}).json()
    assert_matches_spec("items", "/v3/items/walmart/search", "get", "200", body)
    assert [found["itemId"] for found in body["items"]] == [item.item_id]
    assert wm.get("/v3/items/walmart/search", {"gtin": item.gtin}).json()["items"][0]["title"] == "Catalog thing 7"
    assert wm.get("/v3/items/walmart/search", {"query": "thing 7"}).json()["items"][0]["itemId"] == item.item_id
    assert wm.get("/v3/items/walmart/search", {"upc": "036000291452"}).json() == {}
    bad = wm.get("/v3/items/walmart/search", {"upc": "036000291453"})
    assert bad.status_code == 400
    assert wm.get("/v3/items/walmart/search").status_code == 400


def test_own_catalog_search(wm, seller):
    offer = published_offer(seller, "SKU-1", index=3)
    published_offer(seller, "SKU-2", index=4)
    response = wm.post("/v3/items/catalog/search", {"query": {"field": "gtin", "value": offer.catalog_item.gtin}})
    body = response.json()
    assert_matches_spec("items", "/v3/items/catalog/search", "post", "200", body)
    assert [found["sku"] for found in body["payload"]] == ["SKU-1"]


def test_inventory_get_and_put(wm, seller):
    published_offer(seller, "SKU 1", quantity=4)
    body = wm.get("/v3/inventory", {"sku": "SKU 1"}).json()
    assert_matches_spec("inventory", "/v3/inventory", "get", "200", body)
    assert body == {"sku": "SKU 1", "quantity": {"unit": "EACH", "amount": 4}}
    response = wm.put(
        "/v3/inventory", {"sku": "SKU 1", "quantity": {"unit": "EACH", "amount": 0}}, query="?sku=SKU%201"
    )
    assert response.status_code == 200
    assert_matches_spec("inventory", "/v3/inventory", "put", "200", response.json())
    assert Offer.objects.get().quantity == 0


def test_inventory_put_rejects_bad_amounts_and_unknown_skus(wm, seller):
    published_offer(seller, "SKU-1", quantity=4)
    for amount in (-1, 2.5, "3"):
        response = wm.put(
            "/v3/inventory", {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": amount}}, query="?sku=SKU-1"
        )
        assert response.status_code == 400, amount
    assert (
        wm.put("/v3/inventory", {"sku": "X", "quantity": {"unit": "EACH", "amount": 1}}, query="?sku=X").status_code
        == 404
    )
    assert Offer.objects.get().quantity == 4


def test_inventories_list_with_cursor(wm, seller):
    for index in range(1, 4):
        published_offer(seller, f"SKU-{index}", index=index, quantity=index)
    first = wm.get("/v3/inventories", {"limit": 2}).json()
    assert_matches_spec("inventory", "/v3/inventories", "get", "200", first)
    assert [row["sku"] for row in first["elements"]["inventories"]] == ["SKU-1", "SKU-2"]
    second = wm.get("/v3/inventories", {"limit": 2, "nextCursor": first["meta"]["nextCursor"]}).json()
    assert [row["sku"] for row in second["elements"]["inventories"]] == ["SKU-3"]
    assert second["elements"]["inventories"][0]["nodes"][0]["availToSellQty"] == {"unit": "EACH", "amount": 3}
    assert "nextCursor" not in second["meta"]
    assert wm.get("/v3/inventories", {"limit": 51}).status_code == 400


def test_price_update(wm, seller):
    published_offer(seller, "SKU-1", price="10.00")
    body = {
        "sku": "SKU-1",
        "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 12.34}}],
    }
    response = wm.put("/v3/price", body)
    assert response.status_code == 200
    assert_matches_spec("prices", "/v3/price", "put", "200", response.json())
    assert str(Offer.objects.get().price) == "12.34"


@pytest.mark.parametrize("amount", [12.345, 0, -1, "abc"])
def test_price_update_rejects_bad_amounts_and_changes_nothing(wm, seller, amount):
    published_offer(seller, "SKU-1", price="10.00")
    body = {
        "sku": "SKU-1",
        "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": amount}}],
    }
    response = wm.put("/v3/price", body)
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == "currentPrice.amount"
    assert str(Offer.objects.get().price) == "10.00"


def test_partner_profile_reports_feed_limits(wm, seller, settings):
    settings.WALMART_EMULATOR_RATE_LIMITS = {"feeds:inventory": {"count": 7, "seconds": 3600}}
    body = wm.get("/v3/settings/partnerprofile").json()
    assert_matches_spec("settings", "/v3/settings/partnerprofile", "get", "200", body)
    values = {value["feedType"]: value for value in body["configurations"][1]["configuration"]["values"]}
    assert values["inventory"]["throttleConfigurations"][0]["rate"] == {
        "count": 7,
        "replenishTimeWindow": {"value": 3600, "unitOfMeasurement": "SECOND"},
    }
    assert values["price"]["throttleConfigurations"][0]["rate"]["count"] == 10


def test_shipping_carriers(wm, seller):
    body = wm.get("/v3/settings/shipping/carriers").json()
    assert_matches_spec("settings", "/v3/settings/shipping/carriers", "get", "200", body)
    assert [carrier["carrierMethodName"] for carrier in body][:3] == ["USPS", "UPS", "FEDEX"]


def test_feed_submit_response_matches_spec(wm, seller):
    published_offer(seller, "SKU-1")
    response = wm.post_feed(
        "inventory",
        '{"InventoryHeader":{"version":"1.4"},"Inventory":[{"sku":"SKU-1","quantity":{"unit":"EACH","amount":1}}]}',
    )
    assert_valid(schema_at("items", "/v3/feeds", "post", "200"), response.json())


def test_items_count_by_status(wm, seller):
    published_offer(seller, "SKU-1", index=1)
    published_offer(seller, "SKU-2", index=2, published_status="STAGE")
    assert wm.get("/v3/items/count").json() == {"All": 2}
    assert wm.get("/v3/items/count", {"status": "PUBLISHED"}).json() == {"PUBLISHED": 1}
    assert wm.get("/v3/items/count", {"status": "UNPUBLISHED"}).json() == {"UNPUBLISHED": 1}
    assert wm.get("/v3/items/count", {"status": "NOPE"}).status_code == 400


def test_inventory_per_node(wm, seller):
    published_offer(seller, "SKU-1", quantity=3)
    body = wm.get("/v3/inventories/SKU-1").json()
    assert_matches_spec("inventory", "/v3/inventories/{sku}", "get", "200", body)
    assert body["nodes"][0]["shipNode"] == seller.ship_node
    nodes = {
        "inventories": {
            "nodes": [
                {"shipNode": seller.ship_node, "inputQty": {"unit": "EACH", "amount": 8}},
                {"shipNode": "404", "inputQty": {"unit": "EACH", "amount": 1}},
            ]
        }
    }
    response = wm.put("/v3/inventories/SKU-1", nodes)
    assert_matches_spec("inventory", "/v3/inventories/{sku}", "put", "200", response.json())
    assert [(node["shipNode"], node["status"]) for node in response.json()["nodes"]] == [
        (seller.ship_node, "Success"),
        ("404", "Failure"),
    ]
    assert Offer.objects.get().quantity == 8
