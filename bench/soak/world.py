"""The soak's world, set up before the load starts: on Walmart (the emulator) a seller with a catalog of
offers; in the product the same catalog, a store connected to that seller with every listing matched and
in sync, and three people, none of them staff or superuser: the store's manager (who created it), an
operator and a catalog editor (in the "Catalog editors" group). Then, through the dashboard over HTTP, what
the manager sets up: the operator made a member with the operator role (Channel Settings -> Members), the
order webhooks and how often returns are read. And a probe of Walmart's inventory semantics, on a seller
of its own, so the listing check compares like with like whichever semantics the running code has.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from bench.soak.checks import inventory_semantics
from bench.soak.dashboard import Dashboard

STORE_NAME = "Soak store"
SELLER_NAME = "Soak seller"
SKU_PREFIX = "SOAK-"
MANAGER = "soak-manager"
OPERATOR = "soak-operator"
CATALOG_EDITOR = "soak-catalog"
CATALOG_GROUP = "Catalog editors"  # listings.permissions.CATALOG_GROUPS: view, add and change products
RETURNS_POLL_SECONDS = 60


@dataclass(frozen=True)
class Login:
    username: str
    password: str


@dataclass(frozen=True)
class World:
    store_id: int
    seller_id: int
    client_id: str
    client_secret: str
    manager: Login  # the store's manager: Channel Settings, Members
    operator: Login  # ships, cancels, refunds (the operator role, given by the manager over HTTP)
    catalog_editor: Login  # changes products (site-wide catalog permissions; no store role needed)
    product_ids: list[int]
    skus: list[str]


def world_create(*, listings: int, emulator_base_url: str, seed: int) -> World:
    """Rows written directly through the product's and the emulator's services (no HTTP server needed)."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from channel_manager.models import Store
    from channel_manager.services import store_create
    from listings.models import Listing, Product
    from listings.services import product_create
    from orders.services import order_settings_ensure
    from walmart_emulator import services as emulator

    rng = random.Random(seed)
    logins = {name: Login(name, secrets.token_urlsafe(16)) for name in (MANAGER, OPERATOR, CATALOG_EDITOR)}
    users = {
        name: get_user_model().objects.create_user(username=name, email=f"{name}@example.com", password=login.password)
        for name, login in logins.items()
    }
    users[CATALOG_EDITOR].groups.add(Group.objects.get(name=CATALOG_GROUP))
    user = users[MANAGER]
    client_id, client_secret = f"soak-{secrets.token_hex(8)}", secrets.token_urlsafe(32)
    seller = emulator.seller_create(name=SELLER_NAME, client_id=client_id, client_secret=client_secret)
    items = emulator.catalog_seed(count=listings, seed=seed)
    values = []
    for index, item in enumerate(items):
        sku = f"{SKU_PREFIX}{index:05d}"
        quantity = rng.randint(15, 40)
        price = Decimal(rng.randint(500, 5000)) / 100
        emulator.offer_create(seller=seller, sku=sku, catalog_item=item, price=price, quantity=quantity)
        values.append((sku, item, quantity, price))
    store = store_create(
        user=user,
        name=STORE_NAME,
        environment=Store.Environment.EMULATOR,
        client_id=client_id,
        client_secret=client_secret,
    )
    Store.objects.filter(pk=store.pk).update(emulator_base_url=emulator_base_url)
    products = [
        product_create(actor="soak", sku=sku, name=item.title, upc=item.upc, price=str(price), quantity=quantity)
        for sku, item, quantity, price in values
    ]
    Listing.objects.bulk_create(
        [
            Listing(
                store=store,
                product=product,
                status=Listing.Status.MATCH,
                walmart_item_id=item.item_id,
                published_status="PUBLISHED",
                lifecycle_status="ACTIVE",
                confirmed_quantity=quantity,
                confirmed_price=price,
            )
            for product, (_, item, quantity, price) in zip(products, values, strict=True)
        ]
    )
    order_settings_ensure(store=store)
    return World(
        store_id=store.pk,
        seller_id=seller.pk,
        client_id=client_id,
        client_secret=client_secret,
        manager=logins[MANAGER],
        operator=logins[OPERATOR],
        catalog_editor=logins[CATALOG_EDITOR],
        product_ids=[product.pk for product in Product.objects.filter(sku__startswith=SKU_PREFIX).order_by("sku")],
        skus=[sku for sku, _, _, _ in values],
    )


def world_connect(world: World, dashboard: Dashboard) -> list[str]:
    """What the store's manager (`dashboard` is logged in as them) sets up in Channel Settings: the operator
    made a member with the operator role, the order webhooks (Walmart calls the store's endpoint) and reading
    returns every minute. Returns what the dashboard answered, for the log."""
    from channel_manager.models import StoreMembership

    done = []
    members = f"/stores/{world.store_id}/settings/members/"
    form, url = dashboard.form(members, field="username")
    posted = dashboard.submit(form, url, {"username": world.operator.username, "role": StoreMembership.Role.OPERATOR})
    role = (
        StoreMembership.objects.filter(store_id=world.store_id, user__username=world.operator.username)
        .values_list("role", flat=True)
        .first()
    )
    if posted.outcome != "saved" or role != StoreMembership.Role.OPERATOR:
        raise RuntimeError(f"{world.operator.username} not made an operator (role {role}): {posted}")
    done.append(f"{world.operator.username} is an operator of the store")
    form, url = dashboard.form(f"/stores/{world.store_id}/settings/webhooks/", button=("action", "subscribe"))
    posted = dashboard.submit(form, url, {}, button=("action", "subscribe"))
    if posted.outcome != "saved":
        raise RuntimeError(f"webhook subscription failed: {posted}")
    done.append("order webhooks subscribed")
    form, url = dashboard.form(f"/stores/{world.store_id}/settings/returns/", form_id="return-settings-form")
    posted = dashboard.submit(
        form,
        url,
        {"poll_interval_seconds": str(RETURNS_POLL_SECONDS), "poll_overlap_seconds": str(2 * RETURNS_POLL_SECONDS)},
    )
    if posted.outcome != "saved":
        raise RuntimeError(f"returns settings not saved: {posted}")
    done.append(f"returns read every {RETURNS_POLL_SECONDS} s")
    return done


def walmart_client(*, base_url: str, client_id: str, client_secret: str):
    from walmart_client import WalmartClient

    return WalmartClient(base_url=base_url, client_id=client_id, client_secret=client_secret, timeout=30.0)


def inventory_probe(*, emulator_base_url: str) -> dict:
    """Which quantity a `PUT /v3/inventory` sets on the running emulator (see checks.inventory_semantics),
    on a seller of its own that no store is connected to."""
    from walmart_emulator import services as emulator

    secret = secrets.token_urlsafe(24)
    seller = emulator.seller_create(name="Soak inventory probe", client_id="soak-probe", client_secret=secret)
    from walmart_emulator.models import CatalogItem

    item = CatalogItem.objects.filter(gtin="00012345678905").first() or emulator.catalog_item_create(
        gtin="00012345678905", title="Probe item"
    )
    emulator.offer_create(seller=seller, sku="PROBE", catalog_item=item, price=Decimal("10.00"), quantity=0)
    client = walmart_client(base_url=emulator_base_url, client_id="soak-probe", client_secret=secret)
    sent, ordered = 10, 1
    client.inventory.update("PROBE", sent)
    emulator.order_simulate(seller=seller, lines=[("PROBE", ordered)])
    client.inventory.update("PROBE", sent)
    node = next(inventory for inventory in client.inventory.iter_all() if inventory.sku == "PROBE")
    shown = {"inputQty": node.quantity, "availToSellQty": node.available_to_sell, "reservedQty": node.reserved}
    return {"sent": sent, "ordered": ordered, "shown": shown, "semantics": inventory_semantics(
        sent=sent, ordered=ordered, node=shown)}  # fmt: skip
