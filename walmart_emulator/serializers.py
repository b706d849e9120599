"""Emulator rows -> Walmart's JSON shapes (as in the 2024-12 OpenAPI specs and their examples)."""

from decimal import Decimal

from walmart_emulator.clock import epoch_ms
from walmart_emulator.models import CatalogItem, Feed, FeedItemResult, Offer


def money(value: Decimal) -> float:
    return float(value)


def offer_json(offer: Offer) -> dict:
    item = offer.catalog_item
    data = {
        "mart": "WALMART_US",
        "sku": offer.sku,
        "condition": offer.condition,
        "wpid": offer.wpid,
        "upc": item.upc,
        "gtin": item.gtin,
        "productName": offer.product_name,
        "shelf": '["Home Page"]',
        "productType": item.product_type,
        "price": {"currency": offer.currency, "amount": money(offer.price)},
        "publishedStatus": offer.published_status,
        "lifecycleStatus": offer.lifecycle_status,
    }
    if offer.unpublished_reason:
        data["unpublishedReasons"] = {"reason": [offer.unpublished_reason]}
    return data


def catalog_item_json(item: CatalogItem) -> dict:
    return {
        "itemId": item.item_id,
        "isMarketPlaceItem": False,
        "images": [{"url": f"https://i5.walmartimages.com/asr/{item.item_id}.jpeg"}],
        "customerRating": "4.5",
        "price": {"amount": str(item.price), "currency": "USD"},
        "description": item.title,
        "title": item.title,
        "brand": item.brand,
        "productType": item.product_type,
        "properties": {"categories": [item.product_type], "next_day_eligible": False},
    }


def feed_summary_json(feed: Feed, status: str) -> dict:
    final = feed.is_final
    return {
        "feedId": feed.feed_id,
        "feedSource": "MARKETPLACE_PARTNER",
        "feedType": feed.feed_type,
        "partnerId": feed.seller.partner_id,
        "itemsReceived": feed.items_received,
        "itemsSucceeded": feed.items_succeeded if final else 0,
        "itemsFailed": feed.items_failed if final else 0,
        "itemsProcessing": 0 if final else feed.items_received,
        "feedStatus": status,
        "feedDate": epoch_ms(feed.received_at),
        "modifiedDtm": epoch_ms(feed.processed_at or feed.received_at),
    }


def feed_item_json(result: FeedItemResult) -> dict:
    data = {
        "martId": 0,
        "sku": result.sku,
        "wpid": result.wpid,
        "index": result.index,
        "ingestionStatus": result.status,
    }
    data["ingestionErrors"] = {"ingestionError": result.errors}
    return data


def feed_detail_json(feed: Feed, status: str, results: list[FeedItemResult], offset: int, limit: int) -> dict:
    final = feed.is_final
    return {
        "feedId": feed.feed_id,
        "feedStatus": status,
        "ingestionErrors": {"ingestionError": feed.ingestion_errors},
        "itemsReceived": feed.items_received,
        "itemsSucceeded": feed.items_succeeded if final else 0,
        "itemsFailed": feed.items_failed if final else 0,
        "itemsProcessing": 0 if final else feed.items_received,
        "offset": offset,
        "limit": limit,
        "itemDetails": {"itemIngestionStatus": [feed_item_json(result) for result in results]},
    }


def quantity_json(amount: int) -> dict:
    return {"unit": "EACH", "amount": amount}


def _amount(value: Decimal) -> dict:
    return {"currency": "USD", "amount": float(value)}


def line_status_json(row) -> dict:
    data = {"status": row.status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(row.quantity)}}
    if row.cancellation_reason:
        data["cancellationReason"] = row.cancellation_reason
    if row.tracking_number:
        carrier = {"carrier": row.carrier} if row.carrier else {"otherCarrier": row.other_carrier}
        data["trackingInfo"] = {
            "shipDateTime": epoch_ms(row.ship_datetime),
            "carrierName": carrier,
            "methodCode": row.method_code,
            "trackingNumber": row.tracking_number,
        }
        if row.tracking_url:
            data["trackingInfo"]["trackingURL"] = row.tracking_url
    return data


def order_line_json(line) -> dict:
    charges = [
        {
            "chargeType": "PRODUCT",
            "chargeName": "ItemPrice",
            "chargeAmount": _amount(line.product_amount),
            "tax": {"taxName": "Tax1", "taxAmount": _amount(line.product_tax)},
        }
    ]
    if line.shipping_amount:
        charges.append(
            {
                "chargeType": "SHIPPING",
                "chargeName": "Shipping",
                "chargeAmount": _amount(line.shipping_amount),
                "tax": {"taxName": "Tax1", "taxAmount": _amount(line.shipping_tax)},
            }
        )
    data = {
        "lineNumber": str(line.line_number),
        "item": {"productName": line.product_name, "sku": line.sku, "condition": line.condition},
        "charges": {"charge": charges},
        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(line.quantity)},
        "statusDate": epoch_ms(line.status_date),
        "orderLineStatuses": {"orderLineStatus": [line_status_json(row) for row in line.statuses.all()]},
        "fulfillment": {
            "fulfillmentOption": "S2H",
            "shipMethod": line.order.method_code.upper(),
            "pickUpDateTime": epoch_ms(line.order.estimated_ship_date),
        },
    }
    refunds = list(line.refunds.all())
    if refunds:
        data["refund"] = {
            "refundId": refunds[-1].refund_id,
            "refundComments": refunds[-1].comments,
            "refundCharges": {
                "refundCharge": [
                    {
                        "refundReason": refund.reason,
                        "charge": {
                            "chargeType": refund.charge_type,
                            "chargeName": refund.charge_name,
                            "chargeAmount": _amount(refund.amount),
                            "tax": {"taxName": "Tax1", "taxAmount": _amount(refund.tax_amount)},
                        },
                    }
                    for refund in refunds
                ]
            },
        }
    if line.intent_to_cancel:
        data["intentToCancel"] = "true"
    if line.seller_order_id:
        data["sellerOrderId"] = line.seller_order_id
    return data


def order_json(order) -> dict:
    lines = list(order.lines.all())
    for line in lines:
        line.order = order
    return {
        "purchaseOrderId": order.purchase_order_id,
        "customerOrderId": order.customer_order_id,
        "customerEmailId": order.customer_email_id,
        "orderType": order.order_type,
        "orderDate": epoch_ms(order.order_date),
        "shippingInfo": {
            "phone": order.phone,
            "estimatedDeliveryDate": epoch_ms(order.estimated_delivery_date),
            "estimatedShipDate": epoch_ms(order.estimated_ship_date),
            "methodCode": order.method_code,
            "postalAddress": {key: value for key, value in order.postal_address.items() if value != ""},
        },
        "orderLines": {"orderLine": [order_line_json(line) for line in lines]},
        "shipNode": {"type": "SellerFulfilled", "name": f"{order.seller.name} warehouse", "id": order.seller.ship_node},
    }
