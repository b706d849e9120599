"""Builders for emulator test data (plain functions over the emulator's services)."""

from decimal import Decimal

from walmart_emulator import services
from walmart_emulator.identifiers import gtin_check_digit
from walmart_emulator.models import CatalogItem, Offer, Seller


def upc_with_check(body11: str) -> str:
    return body11 + gtin_check_digit(body11)


def catalog_item(index: int = 1, *, price: str = "19.99") -> CatalogItem:
    upc = upc_with_check(f"0{index:010d}")
    return services.catalog_item_create(gtin="00" + upc, title=f"Catalog thing {index}", price=Decimal(price))


def published_offer(
    seller: Seller,
    sku: str,
    *,
    index: int = 1,
    quantity: int = 10,
    price: str = "19.99",
    published_status: str = Offer.PublishedStatus.PUBLISHED,
) -> Offer:
    return services.offer_create(
        seller=seller,
        sku=sku,
        catalog_item=catalog_item(index, price=price),
        price=Decimal(price),
        quantity=quantity,
        published_status=published_status,
    )


def match_payload(*items: dict, version: str = "4.2") -> dict:
    return {
        "MPItemFeedHeader": {
            "processMode": "REPLACE",
            "subset": "EXTERNAL",
            "locale": "en",
            "sellingChannel": "mpsetupbymatch",
            "version": version,
        },
        "MPItem": [{"Item": item} for item in items],
    }


def match_item(sku: str, product_id: str, *, id_type: str = "UPC", price=9.99, weight=1.5) -> dict:
    return {
        "sku": sku,
        "price": price,
        "ShippingWeight": weight,
        "productIdentifiers": {"productIdType": id_type, "productId": product_id},
    }


def ship_body(*lines: dict, process_mode: str | None = None) -> dict:
    body = {"orderShipment": {"orderLines": {"orderLine": list(lines)}}}
    if process_mode:
        body["orderShipment"]["processMode"] = process_mode
    return body


def ship_line(
    line_number: int,
    quantity: int = 1,
    *,
    tracking: str = "1Z999",
    carrier: str | None = "UPS",
    other: str | None = None,
    url: str | None = None,
    method: str = "Standard",
    seller_order_id: str | None = "SO-1",
    ship_ms: int = 1_790_000_000_000,
    **extra,
) -> dict:
    carrier_name = {"carrier": carrier} if carrier else {"otherCarrier": other}
    tracking_info = {
        "shipDateTime": ship_ms,
        "carrierName": carrier_name,
        "methodCode": method,
        "trackingNumber": tracking,
    }
    if url:
        tracking_info["trackingURL"] = url
    line = {
        "lineNumber": str(line_number),
        "orderLineStatuses": {
            "orderLineStatus": [
                {
                    "status": "Shipped",
                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
                    "trackingInfo": tracking_info,
                }
            ]
        },
        **extra,
    }
    if seller_order_id is not None:
        line["sellerOrderId"] = seller_order_id
    return line


def cancel_body(line_number: int, quantity: int = 1, reason: str = "SELLER_CANCEL_OUT_OF_STOCK") -> dict:
    return {
        "orderCancellation": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": str(line_number),
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Cancelled",
                                    "cancellationReason": reason,
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
                                }
                            ]
                        },
                    }
                ]
            }
        }
    }


def refund_body(
    purchase_order_id: str,
    line_number: int,
    amount,
    tax=0,
    *,
    charge_type: str = "PRODUCT",
    reason: str = "DamagedItem",
    full: bool = False,
) -> dict:
    return {
        "orderRefund": {
            "purchaseOrderId": purchase_order_id,
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": str(line_number),
                        "isFullRefund": full,
                        "refunds": {
                            "refund": [
                                {
                                    "refundComments": "sorry",
                                    "refundCharges": {
                                        "refundCharge": [
                                            {
                                                "refundReason": reason,
                                                "charge": {
                                                    "chargeType": charge_type,
                                                    "chargeName": "Item Price",
                                                    "chargeAmount": {"currency": "USD", "amount": amount},
                                                    "tax": {
                                                        "taxName": "Item Price Tax",
                                                        "taxAmount": {"currency": "USD", "amount": tax},
                                                    },
                                                },
                                            }
                                        ]
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
        }
    }


def inspector_user(username: str = "ops"):
    """Staff holding the permission to use the emulator's inspection pages."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    user = UserFactory(username=username, is_staff=True)
    permission = Permission.objects.get(codename="use_inspector", content_type__app_label="walmart_emulator")
    user.user_permissions.add(permission)
    return user
