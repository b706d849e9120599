"""A listing whose Walmart SKU differs from its product's SKU, end to end against the Walmart emulator: the
sync, the match feed, the read-back and retire send the Walmart SKU; an order and a return for it resolve to
the product (stock reserved, shipped, cancelled, refunded and restocked for the right product)."""

from decimal import Decimal

import pytest

from inventory.services import stock_bulk_set
from listings.models import Listing, Product
from listings.services import listings_add, listings_reread, listings_retire
from orders.models import Cancellation, Order, OrderLine, Shipment
from orders.services import cancellation_create, order_poll, shipment_create
from returns.models import Refund, Return
from returns.services import RefundLineRequest, refund_create, returns_poll
from sync.services import sync_run
from tests.factories import StoreFactory
from tests.orders.conftest import live_server_threads_finish  # noqa: F401 - a fixture
from tests.orders.factories import ProductFactory
from tests.returns.factories import ship_body
from walmart_emulator import orders as emulator_orders
from walmart_emulator import services as emulator
from walmart_emulator.models import Offer
from walmart_emulator.models import OrderLine as EmulatorOrderLine

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]
SECRET = "emulator-secret-for-mapped-skus"


@pytest.fixture
def mapped(live_server, settings):
    """Our product CAT-MUG (20 units, 12.00) is offered on Walmart as WM-MUG: listing Match, in sync. A product
    whose catalog SKU *is* WM-MUG exists too, and must never be touched by WM-MUG's orders."""
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
    store = StoreFactory(
        environment="emulator", emulator_base_url=live_server.url + "/walmart-emulator", client_secret=SECRET
    )
    seller = emulator.seller_create(name="Mapped seller", client_id=store.client_id, client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="WM-MUG", catalog_item=item, price=Decimal("12.00"), quantity=20)
    product = ProductFactory(sku="CAT-MUG", quantity=20, price=Decimal("12.00"))
    decoy = ProductFactory(sku="WM-MUG", quantity=50)
    listing = Listing.objects.create(
        store=store,
        product=product,
        walmart_sku="WM-MUG",
        status=Listing.Status.MATCH,
        confirmed_quantity=20,
        confirmed_price=Decimal("12.00"),
    )
    return store, seller, product, decoy, listing


def offer(seller) -> Offer:
    return Offer.objects.get(seller=seller, sku="WM-MUG")


def test_the_sync_sends_the_walmart_sku(mapped):
    store, seller, product, _decoy, listing = mapped
    # when: the catalog's quantity and price change and the planner runs
    stock_bulk_set(quantities={product.pk: 7}, reason="import", actor="alice")
    Product.objects.filter(pk=product.pk).update(price=Decimal("13.50"))
    sync_run(store=store, stream="inventory")
    sync_run(store=store, stream="price")
    # then: Walmart's WM-MUG holds them, and the listing is confirmed
    walmart = offer(seller)
    assert (walmart.quantity, walmart.price) == (7, Decimal("13.50"))
    listing.refresh_from_db()
    assert (listing.confirmed_quantity, listing.confirmed_price) == (7, Decimal("13.50"))
    assert not Offer.objects.filter(seller=seller, sku="CAT-MUG").exists()


def test_read_back_and_retire_use_the_walmart_sku(mapped):
    _store, seller, _product, _decoy, listing = mapped
    # when: the listing is read back
    assert listings_reread(listings=Listing.objects.filter(pk=listing.pk)) == (1, 0)
    listing.refresh_from_db()
    assert (listing.status, listing.published_status, listing.walmart_item_id) == (
        Listing.Status.MATCH,
        "PUBLISHED",
        offer(seller).wpid,
    )
    # when: it is retired
    assert listings_retire(listings=Listing.objects.filter(pk=listing.pk)) == (1, 0)
    # then: Walmart retired WM-MUG
    assert offer(seller).lifecycle_status == "RETIRED"


def test_an_order_for_the_walmart_sku_reserves_ships_and_cancels_the_right_product(mapped):
    store, seller, product, decoy, listing = mapped
    # when: a customer orders 3 x WM-MUG on Walmart and our poll reads it
    placed = emulator.order_simulate(seller=seller, lines=[("WM-MUG", 3)], method_code="Standard")
    order_poll(store=store)
    # then: the line is resolved to CAT-MUG through the listing and its stock reserved; the decoy untouched
    order = Order.objects.get(store=store)
    line = OrderLine.objects.get(order=order)
    assert (line.sku, line.listing_id, line.status_details) == ("WM-MUG", listing.pk, "")
    product.refresh_from_db()
    decoy.refresh_from_db()
    assert (product.quantity, decoy.quantity) == (17, 50)
    # when: 2 ship and 1 is cancelled
    shipment = shipment_create(
        order=order,
        quantities={line.pk: 2},
        tracking_number="1Z999AA10123456784",
        method_code="Standard",
        ship_date=order.order_date,
        carrier="UPS",
    )
    cancellation = cancellation_create(order=order, quantities=None, reason="SELLER_CANCEL_OUT_OF_STOCK")
    # then: Walmart's WM-MUG line is shipped and cancelled, and the cancelled unit is back on CAT-MUG
    shipment.refresh_from_db()
    cancellation.refresh_from_db()
    assert (shipment.status, cancellation.status) == (Shipment.Status.SENT, Cancellation.Status.SENT)
    remote = EmulatorOrderLine.objects.get(order__purchase_order_id=placed.purchase_order_id)
    assert remote.sku == "WM-MUG"
    assert sorted((status.status, status.quantity) for status in remote.statuses.all()) == [
        ("Cancelled", 1),
        ("Shipped", 2),
    ]
    product.refresh_from_db()
    decoy.refresh_from_db()
    assert (product.quantity, decoy.quantity) == (18, 50)


def test_a_return_of_the_walmart_sku_is_refunded_and_restocked_on_the_right_product(mapped):
    store, seller, product, decoy, _listing = mapped
    # given: 2 x WM-MUG ordered, shipped on Walmart, read by our order desk, then returned
    placed = emulator.order_simulate(seller=seller, lines=[("WM-MUG", 2)], method_code="Standard")
    emulator_orders.order_acknowledge(seller=seller, purchase_order_id=placed.purchase_order_id)
    emulator_orders.order_ship(seller=seller, purchase_order_id=placed.purchase_order_id, body=ship_body(placed))
    order_poll(store=store)
    emulator.return_simulate(seller=seller, purchase_order_id=placed.purchase_order_id, quantity=2)
    returns_poll(store=store)
    stored = Return.objects.get()
    product.refresh_from_db()
    assert product.quantity == 18
    # when: both are refunded and go back to stock
    refund_create(return_order=stored, lines=[RefundLineRequest(stored.lines.get().pk, 2, back_to_stock=True)])
    # then: Walmart refunded them and CAT-MUG (not the product whose SKU is WM-MUG) has them back
    assert Refund.objects.get().status == "sent"
    product.refresh_from_db()
    decoy.refresh_from_db()
    assert (product.quantity, decoy.quantity) == (20, 50)


def test_adding_a_product_whose_sku_is_another_listings_walmart_sku_is_skipped(mapped):
    store, _seller, _product, decoy, _listing = mapped
    # when: the product whose catalog SKU is WM-MUG is added to the store
    created = listings_add(store=store, products=[decoy.pk])
    # then: nothing is created (WM-MUG is already the offer of CAT-MUG in this store)
    assert created == 0
    assert list(Listing.objects.filter(store=store).values_list("walmart_sku", "product__sku")) == [
        ("WM-MUG", "CAT-MUG")
    ]
