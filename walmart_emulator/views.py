"""Emulated Walmart endpoints: auth, items, catalog search, feeds, inventory, price, settings.

Orders, returns and webhooks are in views_orders.py; the staff inspection pages in views_inspect.py.
Every view here follows the 2024-12 Walmart OpenAPI specs (paths, parameters, response shapes).
"""

import base64
import binascii

from django.contrib.auth.decorators import login_not_required
from django.db.models import Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from walmart_emulator import feeds as feed_services
from walmart_emulator import services
from walmart_emulator.clock import epoch_ms
from walmart_emulator.errors import EmulatorError, error_response, not_found, unauthorized
from walmart_emulator.http import EmulatorRequest, json_body, required_headers_check, walmart_endpoint
from walmart_emulator.identifiers import InvalidIdentifier, identifier_to_gtin14
from walmart_emulator.inventory import inventory_node_json
from walmart_emulator.models import AccessToken, CatalogItem, Feed, Offer, Seller
from walmart_emulator.ratelimits import rate_limit_for
from walmart_emulator.serializers import (
    catalog_item_json,
    feed_detail_json,
    feed_summary_json,
    offer_json,
    quantity_json,
)

CARRIER_METHODS = (
    ("1000014", "USPS", "GROUND", "USPS for Marketplace"),
    ("1000013", "UPS", "GROUND", "UPS for Marketplace"),
    ("1000012", "FEDEX", "GROUND", "Fedex for Marketplace"),
    ("1000015", "DHL", "GROUND", "DHL for Marketplace"),
    ("1000016", "ONTRAC", "GROUND", "OnTrac for Marketplace"),
)


def int_param(
    request: EmulatorRequest,
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    api: str = "GMP_GATEWAY_API",
) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise EmulatorError(
            f"{name} must be a whole number.", field=name, code=f"INVALID_REQUEST_PARAM.{api}"
        ) from error
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise EmulatorError(
            f"{name} must be at least {minimum}{bound}.", field=name, code=f"INVALID_REQUEST_PARAM.{api}"
        )
    return value


# --- auth -----------------------------------------------------------------------------------------


@csrf_exempt
@login_not_required
@require_http_methods(["POST"])
def token(request: EmulatorRequest):
    """POST /v3/token: client_credentials with Basic(clientId:clientSecret) -> a 900-second token."""
    try:
        required_headers_check(request)
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            raise unauthorized("Authorization header with Basic credentials is required.")
        try:
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise unauthorized("Authorization header is malformed.") from error
        grant_type = request.POST.get("grant_type")
        if grant_type != "client_credentials":
            raise EmulatorError(
                f"grant_type '{grant_type}' is not supported (client_credentials only).",
                field="grant_type",
                code="INVALID_REQUEST_PARAM.GMP_GATEWAY_API",
            )
        issued = services.token_issue(client_id=client_id, client_secret=client_secret)
    except EmulatorError as error:
        return error_response(error)
    return JsonResponse(
        {"access_token": issued.token, "token_type": "Bearer", "expires_in": services.TOKEN_LIFETIME_SECONDS}
    )


@walmart_endpoint("settings")
def token_detail(request: EmulatorRequest, seller: Seller):
    """GET /v3/token/detail."""
    from walmart_emulator.http import wm_header

    row = AccessToken.objects.get(token=wm_header(request, "WM_SEC.ACCESS_TOKEN"))
    scopes = dict.fromkeys(
        (
            "reports",
            "item",
            "shipping",
            "price",
            "lagtime",
            "feeds",
            "returns",
            "orders",
            "rules",
            "inventory",
            "content",
        ),
        "full_access",
    )
    return {
        "expire_at": str(epoch_ms(row.expires_at)),
        "issued_at": str(epoch_ms(row.issued_at)),
        "is_valid": row.expires_at > request.emulator_now,
        "is_channel_match": True,
        "scopes": scopes,
    }


# --- items ----------------------------------------------------------------------------------------


def _cursor_encode(pk: int, *, total: int | None = None) -> str:
    text = f"pk:{pk}" if total is None else f"pk:{pk}:total:{total}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _inventory_cursor_decode(cursor: str) -> tuple[int, int | None]:
    """(the last pk listed, the listing's total when the cursor carries it)."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith("pk:") and ":total:" in text:
            pk, total = text[3:].split(":total:")
            return int(pk), int(total)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    return _cursor_decode(cursor), None


def _cursor_decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith("pk:"):
            raise ValueError(cursor)
        return int(text[3:])
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise EmulatorError(
            "nextCursor is invalid.", field="nextCursor", code="INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API"
        ) from error


@walmart_endpoint("items_list")
def items(request: EmulatorRequest, seller: Seller):
    """GET /v3/items: the seller's offers, by `nextCursor` (start with `*`; pages of up to 200, each answer
    carries the cursor of the next page) or `offset` + `limit` (at most 50). Its own rate-limit family
    (300 a minute by third-party notes, NOTES §14)."""
    api = "GMP_ITEM_QUERY_API"
    queryset = Offer.objects.filter(seller=seller).select_related("catalog_item").order_by("pk")
    for param, field in (
        ("sku", "sku"),
        ("lifecycleStatus", "lifecycle_status"),
        ("publishedStatus", "published_status"),
        ("condition", "condition"),
    ):
        if request.GET.get(param):
            queryset = queryset.filter(**{field: request.GET[param]})
    cursor = request.GET.get("nextCursor")
    total = queryset.count()
    if cursor and cursor != "*":
        limit = int_param(request, "limit", 20, minimum=1, maximum=200, api=api)
        queryset = queryset.filter(pk__gt=_cursor_decode(cursor))
        page = list(queryset[: limit + 1])
    else:
        limit = int_param(request, "limit", 20, minimum=1, maximum=200 if cursor == "*" else 50, api=api)
        offset = 0 if cursor == "*" else int_param(request, "offset", 0, api=api)
        page = list(queryset[offset : offset + limit + 1])
    body = {"ItemResponse": [offer_json(offer) for offer in page[:limit]], "totalItems": total}
    if len(page) > limit:
        body["nextCursor"] = _cursor_encode(page[limit - 1].pk)
    return body


COUNT_STATUSES = ("PUBLISHED", "UNPUBLISHED", "SYSTEM_PROBLEM", "IN_PROGRESS", "ALL")


@walmart_endpoint("items_read")
def items_count(request: EmulatorRequest, seller: Seller):
    """GET /v3/items/count?status= -> {"<STATUS>": n} ({"All": n} for ALL), as in Walmart's examples."""
    status = request.GET.get("status", "ALL")
    if status not in COUNT_STATUSES:
        raise EmulatorError(
            f"status '{status}' is invalid.", field="status", code="INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API"
        )
    queryset = Offer.objects.filter(seller=seller)
    if status == "ALL":
        return {"All": queryset.count()}
    if status == "UNPUBLISHED":
        queryset = queryset.exclude(published_status=Offer.PublishedStatus.PUBLISHED)
    else:
        queryset = queryset.filter(published_status=status)
    return {status: queryset.count()}


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "DELETE"])
def item_detail(request: EmulatorRequest, identifier: str):
    """GET /v3/items/{id}?productIdType=... and DELETE /v3/items/{SKU} (retire) share one path."""
    if request.method == "DELETE":
        return item_retire(request, sku=identifier)
    return item_get(request, identifier=identifier)


@walmart_endpoint("items_read")
def item_get(request: EmulatorRequest, seller: Seller, identifier: str):
    api = "GMP_ITEM_QUERY_API"
    id_type = request.GET.get("productIdType", "")
    if not id_type:
        raise EmulatorError("productIdType is required.", field="productIdType", code=f"MISSING_REQUEST_PARAM.{api}")
    queryset = Offer.objects.filter(seller=seller).select_related("catalog_item")
    if id_type == "SKU":
        queryset = queryset.filter(sku=identifier)
    elif id_type == "ITEM_ID":
        queryset = queryset.filter(catalog_item__item_id=identifier)
    elif id_type in ("GTIN", "UPC", "EAN", "ISBN"):
        try:
            queryset = queryset.filter(catalog_item__gtin=identifier_to_gtin14(id_type=id_type, value=identifier))
        except InvalidIdentifier as error:
            raise EmulatorError(str(error), field="id", code=f"INVALID_REQUEST_PARAM.{api}") from error
    else:
        raise EmulatorError(
            f"productIdType '{id_type}' is invalid.", field="productIdType", code=f"INVALID_REQUEST_PARAM.{api}"
        )
    offer = queryset.first()
    if offer is None:
        raise not_found(f"No item found for {id_type} '{identifier}'.", field="id", api=api)
    return {"ItemResponse": [offer_json(offer)], "totalItems": 1}


@walmart_endpoint("items_retire", methods=("DELETE",))
def item_retire(request: EmulatorRequest, seller: Seller, sku: str):
    services.offer_retire(seller=seller, sku=sku)
    return {
        "sku": sku,
        "message": "Thank you.  Your item has been submitted for retirement from Walmart Catalog.  "
        "Please note that it can take up to 48 hours for items to be retired from our catalog.",
    }


@walmart_endpoint("items_read")
def walmart_search(request: EmulatorRequest, seller: Seller):
    """GET /v3/items/walmart/search?upc|gtin|ean|isbn|query: published catalog items (0 or 1 per identifier,
    first 20 by keyword). No match -> 200 `{}`, as Walmart answers."""
    queryset = CatalogItem.objects.filter(is_published=True)
    identifier = next(
        ((name, request.GET[name]) for name in ("upc", "gtin", "ean", "isbn") if request.GET.get(name)), None
    )
    if identifier:
        try:
            gtin = identifier_to_gtin14(
                id_type="GTIN" if identifier[0] == "gtin" else identifier[0].upper(), value=identifier[1]
            )
        except InvalidIdentifier as error:
            raise EmulatorError(
                str(error), field=identifier[0], code="INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API"
            ) from error
        found = list(queryset.filter(gtin=gtin)[:1])
    elif request.GET.get("query"):
        words = request.GET["query"][:40].split()
        condition = Q()
        for word in words:
            condition &= Q(title__icontains=word)
        found = list(queryset.filter(condition)[:20])
    else:
        raise EmulatorError(
            "One of query, upc, gtin, ean or isbn is required.",
            field="query",
            code="MISSING_REQUEST_PARAM.GMP_ITEM_QUERY_API",
        )
    if not found:
        return {}
    return {"items": [catalog_item_json(item) for item in found]}


@walmart_endpoint("items_read", methods=("POST",))
def catalog_search(request: EmulatorRequest, seller: Seller):
    """POST /v3/items/catalog/search: search the seller's own items (query field/value + filters)."""
    body = json_body(request, api="GMP_ITEM_QUERY_API") if request.body else {}
    queryset = Offer.objects.filter(seller=seller).select_related("catalog_item").order_by("pk")
    query = body.get("query") or {}
    field_map = {
        "productName": "product_name__icontains",
        "sku": "sku",
        "gtin": "catalog_item__gtin",
        "wpid": "wpid",
        "upc": "catalog_item__upc",
        "itemId": "catalog_item__item_id",
        "condition": "condition",
    }
    if query:
        if query.get("field") not in field_map and query.get("field") not in ("isbn", "ean"):
            raise EmulatorError(
                "query.field is invalid.", field="query.field", code="INVALID_REQUEST_CONTENT.GMP_ITEM_QUERY_API"
            )
        value = str(query.get("value", ""))
        if query["field"] in ("isbn", "ean"):
            try:
                queryset = queryset.filter(
                    catalog_item__gtin=identifier_to_gtin14(id_type=query["field"].upper(), value=value)
                )
            except InvalidIdentifier:
                queryset = queryset.none()
        else:
            queryset = queryset.filter(**{field_map[query["field"]]: value})
    for condition in body.get("filters") or []:
        if condition.get("field") in ("publishedStatus", "lifecycleStatus") and condition.get("op") == "equals":
            field = "published_status__in" if condition["field"] == "publishedStatus" else "lifecycle_status__in"
            queryset = queryset.filter(**{field: condition.get("values") or []})
    limit = int_param(request, "limit", 100, minimum=1, maximum=1000, api="GMP_ITEM_QUERY_API")
    page = int_param(request, "page", 0, api="GMP_ITEM_QUERY_API")
    offers = list(queryset[page * limit : (page + 1) * limit])
    payload = []
    for offer in offers:
        data = offer_json(offer)
        data["itemId"] = offer.catalog_item.item_id
        data["brand"] = offer.catalog_item.brand
        data["price"] = {"amount": float(offer.price)}
        data["publishedStatus"] = {
            "status": offer.published_status,
            "reasons": [offer.unpublished_reason] if offer.unpublished_reason else [],
        }
        data["inventoryStatus"] = "IN_STOCK" if offer.available_to_sell > 0 else "OUT_OF_STOCK"
        data.pop("unpublishedReasons", None)
        payload.append(data)
    return {"status": "200 OK", "payload": payload}


# --- feeds ----------------------------------------------------------------------------------------


def _feed_family(request: EmulatorRequest) -> str:
    if request.method == "POST":
        return f"feeds:{request.GET.get('feedType', '')}"
    return "feeds_status"


@walmart_endpoint(_feed_family, methods=("GET", "POST"))
def feeds(request: EmulatorRequest, seller: Seller):
    """POST /v3/feeds?feedType= (multipart `file`) -> {feedId}; GET /v3/feeds -> feed list."""
    if request.method == "POST":
        return feed_submit(request, seller)
    queryset = Feed.objects.filter(seller=seller).select_related("seller").order_by("-pk")
    if request.GET.get("feedId"):
        queryset = queryset.filter(feed_id=request.GET["feedId"])
    offset = int_param(request, "offset", 0)
    limit = int_param(request, "limit", 50, minimum=1, maximum=50)
    now = request.emulator_now
    page = [feed_services.feed_process_due(feed=feed, now=now) for feed in queryset[offset : offset + limit]]
    return {
        "totalResults": queryset.count(),
        "offset": offset,
        "limit": limit,
        "results": {"feed": [feed_summary_json(feed, feed_services.feed_display_status(feed, now)) for feed in page]},
    }


def feed_submit(request: EmulatorRequest, seller: Seller):
    feed_type = request.GET.get("feedType", "")
    if not feed_type:
        raise EmulatorError("feedType is required.", field="feedType", code="MISSING_REQUEST_PARAM.GMP_GATEWAY_API")
    upload = request.FILES.get("file")
    if upload is not None:
        content = upload.read()
    elif request.content_type == "application/json" and request.body:
        content = request.body
    else:
        raise EmulatorError(
            "A multipart/form-data part named 'file' is required.",
            field="file",
            code="MISSING_REQUEST_PARAM.GMP_GATEWAY_API",
        )
    feed = feed_services.feed_submit(
        seller=seller, feed_type=feed_type, content=content, ship_node=request.GET.get("shipNode", "")
    )
    return {"feedId": feed.feed_id}


@walmart_endpoint("feeds_status")
def feed_detail(request: EmulatorRequest, seller: Seller, feed_id: str):
    """GET /v3/feeds/{feedId}?includeDetails=true&offset&limit (processes a due feed first)."""
    feed = Feed.objects.filter(seller=seller, feed_id=feed_id).select_related("seller").first()
    if feed is None:
        raise not_found(f"Feed '{feed_id}' was not found.", field="feedId", api="GMP_GATEWAY_API")
    now = request.emulator_now
    feed = feed_services.feed_process_due(feed=feed, now=now)
    offset = int_param(request, "offset", 0)
    limit = int_param(request, "limit", 50, minimum=1, maximum=50)
    results = []
    if request.GET.get("includeDetails", "false").lower() == "true" and feed.is_final:
        results = list(feed.item_results.order_by("index")[offset : offset + limit])
    return feed_detail_json(feed, feed_services.feed_display_status(feed, now), results, offset, limit)


# --- inventory and price --------------------------------------------------------------------------


def _inventory_family(request: EmulatorRequest) -> str:
    return "inventory_update" if request.method == "PUT" else "inventory_read"


@walmart_endpoint(_inventory_family, methods=("GET", "PUT"))
def inventory(request: EmulatorRequest, seller: Seller):
    """GET / PUT /v3/inventory?sku= (default ship node): `quantity` is inputQty, which the PUT sets
    (walmart_emulator.inventory)."""
    sku = request.GET.get("sku", "")
    if not sku:
        raise EmulatorError("sku is required.", field="sku", code="MISSING_REQUEST_PARAM.GMP_INVENTORY_API")
    if request.method == "GET":
        offer = services.offer_get(seller=seller, sku=sku)
        return {"sku": offer.sku, "quantity": quantity_json(offer.quantity)}
    body = json_body(request, api="GMP_INVENTORY_API")
    quantity = body.get("quantity")
    if body.get("sku") not in (None, sku):
        raise EmulatorError(
            "sku in the body does not match the sku parameter.",
            field="sku",
            code="INVALID_REQUEST_CONTENT.GMP_INVENTORY_API",
        )
    if not isinstance(quantity, dict) or quantity.get("unit") != "EACH" or "amount" not in quantity:
        raise EmulatorError(
            'quantity must be {"unit": "EACH", "amount": <number>}.',
            field="quantity",
            code="INVALID_REQUEST_CONTENT.GMP_INVENTORY_API",
        )
    offer = services.inventory_update(seller=seller, sku=sku, quantity=quantity["amount"])
    return {"sku": offer.sku, "quantity": quantity_json(offer.quantity)}


@walmart_endpoint("inventory_read")
def inventories(request: EmulatorRequest, seller: Seller):
    """GET /v3/inventories?limit(<=50)&nextCursor: every SKU with inputQty, availToSellQty and reservedQty
    at its node (walmart_emulator.inventory)."""
    limit = int_param(request, "limit", 10, minimum=1, maximum=50, api="GMP_INVENTORY_API")
    queryset = Offer.objects.filter(seller=seller).order_by("pk")
    cursor = request.GET.get("nextCursor")
    if cursor:
        after, total = _inventory_cursor_decode(cursor)
        queryset = queryset.filter(pk__gt=after)
    # The total is counted on the first page and carried in the cursor: a 100,000-SKU listing is 2,000 pages,
    # and counting the seller's offers on each cost more than the page itself.
    total = queryset.count() if not cursor or total is None else total
    page = list(queryset[: limit + 1])
    elements = [{"sku": offer.sku, "nodes": [inventory_node_json(offer, seller.ship_node)]} for offer in page[:limit]]
    meta: dict[str, int | str] = {"totalCount": total}
    if len(page) > limit:
        meta["nextCursor"] = _cursor_encode(page[limit - 1].pk, total=total)
    return {"meta": meta, "elements": {"inventories": elements}}


def _node_family(request: EmulatorRequest) -> str:
    return "inventory_update" if request.method == "PUT" else "inventory_read"


@walmart_endpoint(_node_family, methods=("GET", "PUT"))
def inventory_nodes(request: EmulatorRequest, seller: Seller, sku: str):
    """GET / PUT /v3/inventories/{sku}: quantities per ship node. The emulated seller has one node (its
    default); a PUT naming another node gets a per-node error, like Walmart's partial failures."""
    offer = services.offer_get(seller=seller, sku=sku)
    if request.method == "GET":
        return {"sku": offer.sku, "nodes": [inventory_node_json(offer, seller.ship_node)]}
    body = json_body(request, api="GMP_INVENTORY_API")
    nodes = (body.get("inventories") or {}).get("nodes") if isinstance(body.get("inventories"), dict) else None
    if not isinstance(nodes, list) or not nodes or not all(isinstance(node, dict) for node in nodes):
        raise EmulatorError(
            "inventories.nodes must be a non-empty list.",
            field="inventories.nodes",
            code="INVALID_REQUEST_CONTENT.GMP_INVENTORY_API",
        )
    results = []
    for node in nodes:
        quantity = node.get("inputQty") or {}
        errors = []
        if node.get("shipNode") != seller.ship_node:
            errors.append(
                EmulatorError(
                    f"Ship node '{node.get('shipNode')}' is not set up for this seller.",
                    field="shipNode",
                    code="INVALID_REQUEST_CONTENT.GMP_INVENTORY_API",
                ).as_dict()
            )
        else:
            try:
                services.inventory_update(
                    seller=seller, sku=sku, quantity=quantity.get("amount") if isinstance(quantity, dict) else None
                )
            except EmulatorError as error:
                errors.append(error.as_dict())
        results.append(
            {"shipNode": str(node.get("shipNode")), "status": "Failure" if errors else "Success", "errors": errors}
        )
    return {"sku": sku, "nodes": results}


@walmart_endpoint("price_update", methods=("PUT",))
def price(request: EmulatorRequest, seller: Seller):
    """PUT /v3/price: one SKU's BASE price."""
    offer = services.price_update(seller=seller, body=json_body(request, api="GMP_PRICE_API"))
    return {
        "mart": "WALMART_US",
        "sku": offer.sku,
        "message": "Thank you. Your price has been updated. Please allow up to five minutes for this change to be "
        "reflected on the site.",
    }


# --- settings -------------------------------------------------------------------------------------

PROFILE_FEED_TYPES = {"inventory": "feeds:inventory", "price": "feeds:price", "MP_ITEM": "feeds:MP_ITEM"}


@walmart_endpoint("settings")
def partner_profile(request: EmulatorRequest, seller: Seller):
    """GET /v3/settings/partnerprofile: the seller's feed limits (from the emulator's rate-limit settings).
    MP_ITEM_MATCH has its own bucket with the MP_ITEM figure unless configured otherwise."""
    values = []
    for feed_type, family in PROFILE_FEED_TYPES.items():
        limit = rate_limit_for(family)
        size_type = feed_type if feed_type in feed_services.DEFAULT_FEED_LIMITS else "MP_ITEM_MATCH"
        values.append(
            {
                "feedType": feed_type,
                "throttleConfigurations": [
                    {
                        "type": "SELLER",
                        "rate": {
                            "count": limit["count"],
                            "replenishTimeWindow": {"value": limit["seconds"], "unitOfMeasurement": "SECOND"},
                        },
                        "fileSize": {
                            "value": feed_services.feed_limits(size_type)["max_bytes"],
                            "unitOfMeasurement": "BYTES",
                        },
                    }
                ],
            }
        )
    return {
        "partner": {
            "partnerId": seller.partner_id,
            "partnerName": seller.name,
            "partnerDisplayName": seller.name,
            "partnerStoreId": seller.partner_id,
            "countryOfIncorporation": "US",
        },
        "configurations": [
            {
                "configurationName": "ACCOUNT",
                "configuration": {"status": "ACTIVE" if seller.is_live else "ONBOARDING_ACTIVE"},
            },
            {"configurationName": "FEED", "configuration": {"values": values}},
        ],
    }


@walmart_endpoint("settings")
def shipping_carriers(request: EmulatorRequest, seller: Seller):
    """GET /v3/settings/shipping/carriers."""
    return [
        {
            "carrierMethodId": method_id,
            "carrierMethodName": name,
            "carrierMethodType": kind,
            "carrierMethodDescription": text,
        }
        for method_id, name, kind, text in CARRIER_METHODS
    ]


@csrf_exempt
@login_not_required
def unknown_path(request: EmulatorRequest, rest: str):
    """Any other /v3/ path: Walmart's 404 URI_NOT_FOUND (not Django's HTML page)."""
    return error_response(
        EmulatorError(
            f"No Walmart API at /v3/{rest}.",
            status=404,
            code="URI_NOT_FOUND.GMP_GATEWAY_API",
            info="Requested URI not found.",
            category="REQUEST",
        )
    )
