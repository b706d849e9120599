"""Inspection pages (staff only), management commands, the demo seed and the periodic tasks."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import UserFactory
from tests.walmart_emulator.factories import inspector_user, published_offer, ship_body, ship_line
from walmart_emulator import services
from walmart_emulator.demo import DEMO_EXISTING_ITEMS, emulator_demo_seed
from walmart_emulator.identifiers import gtin_is_valid
from walmart_emulator.models import AccessToken, CatalogItem, Offer, Order, ReturnOrder, Seller
from walmart_emulator.schedules import SCHEDULES
from walmart_emulator.tasks import emulator_order_trickle_task, emulator_sweep_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(inspector_user("ops"))
    return client


def action(staff_client, seller, **data):
    return staff_client.post(f"/walmart-emulator/inspect/{seller.pk}/action/", data, follow=True)


@pytest.mark.parametrize(
    "user",
    [
        {"username": "operator2"},
        {"username": "staff-without-permission", "is_staff": True},
    ],
    ids=["not staff", "staff without the permission"],
)
def test_inspection_needs_login_staff_and_the_inspector_permission(client, seller, user):
    response = client.get("/walmart-emulator/inspect/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.force_login(UserFactory(**user))
    assert client.get("/walmart-emulator/inspect/").status_code == 403
    assert client.get(f"/walmart-emulator/inspect/{seller.pk}/").status_code == 403
    for data in (
        {"action": "simulate_orders", "count": 1},
        {"action": "clock", "minutes": 60},
        {"action": "faults"},
    ):
        assert client.post(f"/walmart-emulator/inspect/{seller.pk}/action/", data).status_code == 403
    assert not Order.objects.exists()


def test_a_non_staff_user_with_the_permission_is_still_refused(client, seller):
    user = inspector_user("not-staff")
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    assert client.get("/walmart-emulator/inspect/").status_code == 403


def test_staff_with_the_permission_and_superusers_may_inspect(client, seller, superuser):
    client.force_login(inspector_user("ops"))
    assert client.get(f"/walmart-emulator/inspect/{seller.pk}/").status_code == 200
    client.force_login(superuser)
    assert client.get(f"/walmart-emulator/inspect/{seller.pk}/").status_code == 200


def test_seller_page_shows_offers_orders_feeds_and_buckets(staff_client, seller, wm):
    published_offer(seller, "SKU-1", quantity=7, price="12.00")
    order = services.order_simulate(seller=seller, lines=[("SKU-1", 2)])
    wm.get("/v3/items")
    assert seller.name in staff_client.get("/walmart-emulator/inspect/").content.decode()
    page = staff_client.get(f"/walmart-emulator/inspect/{seller.pk}/").content.decode()
    assert "SKU-1" in page
    assert order.purchase_order_id in page
    assert "Created ×2" in page
    assert "items_list" in page
    assert "<td>5</td>" in page  # Walmart-side quantity after the order


def test_buttons_simulate_orders_and_returns(staff_client, seller, wm):
    published_offer(seller, "SKU-1", quantity=10)
    response = action(staff_client, seller, action="simulate_orders", count=2)
    assert "2 orders placed." in response.content.decode()
    assert Order.objects.count() == 2
    response = action(staff_client, seller, action="simulate_return")
    assert "No shipped quantity is left to return." in response.content.decode()
    order = Order.objects.first()
    line = order.lines.first()
    wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge")
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(line.line_number, line.quantity)))
    response = action(staff_client, seller, action="simulate_return")
    assert ReturnOrder.objects.count() == 1
    assert f"Return {ReturnOrder.objects.get().return_order_id} initiated." in response.content.decode()


def test_fault_form_sets_and_validates(staff_client, seller):
    data = {
        "action": "faults",
        "fault_error_share": "0.5",
        "fault_error_status": "503",
        "fault_latency_ms": "10",
        "fault_hang_seconds": "0",
        "fault_lost_answer_share": "0",
        "fault_remaining": "",
    }
    action(staff_client, seller, **data)
    seller.refresh_from_db()
    assert (seller.fault_error_share, seller.fault_error_status, seller.fault_latency_ms) == (0.5, 503, 10)
    response = action(staff_client, seller, **{**data, "fault_error_share": "3"})
    assert "Fault settings not saved" in response.content.decode()
    seller.refresh_from_db()
    assert seller.fault_error_share == 0.5
    action(staff_client, seller, action="faults_clear")
    seller.refresh_from_db()
    assert (seller.fault_error_share, seller.fault_latency_ms) == (0.0, 0)


def test_clock_button_moves_time_and_applies_due_changes(staff_client, seller):
    published_offer(seller, "SKU-1", quantity=10)
    order = services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    action(staff_client, seller, action="clock", hours=24 * 7)
    assert list(order.lines.get().statuses.values_list("status", flat=True)) == ["Cancelled"]


def test_emulator_seed_command_prints_credentials_and_valid_identifiers():
    out = StringIO()
    call_command("emulator_seed", "--items", "25", "--seller", "Cmd seller", stdout=out)
    seller = Seller.objects.get(name="Cmd seller")
    text = out.getvalue()
    assert f"Client ID: {seller.client_id}" in text
    assert f"Client secret: {seller.client_secret}" in text
    assert CatalogItem.objects.count() == 25
    assert all(
        gtin_is_valid(gtin) and gtin_is_valid(upc) for gtin, upc in CatalogItem.objects.values_list("gtin", "upc")
    )


def test_emulator_orders_command(seller):
    published_offer(seller, "SKU-1", quantity=100)
    out = StringIO()
    call_command("emulator_orders", "--seller", seller.name, "--count", "3", stdout=out)
    assert Order.objects.count() == 3
    assert "3 orders placed." in out.getvalue()
    with pytest.raises(CommandError):
        call_command("emulator_orders", "--seller", "nobody", "--count", "1")


def test_emulator_returns_command(seller, wm):
    published_offer(seller, "SKU-1", quantity=5)
    order = services.order_simulate(seller=seller, lines=[("SKU-1", 2)])
    wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge")
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 2)))
    out = StringIO()
    call_command("emulator_returns", "--seller", seller.name, "--count", "2", stdout=out)
    assert ReturnOrder.objects.count() == 1
    assert "1 return initiated." in out.getvalue()


def test_demo_seed_is_idempotent():
    first = emulator_demo_seed(items=12)
    second = emulator_demo_seed(items=12)
    assert first == second
    assert Seller.objects.filter(name="Demo Walmart seller", simulate_orders=True).count() == 1
    # the catalog items, and those of the items the seller already sells (once, whatever the runs)
    assert CatalogItem.objects.count() == 12 + DEMO_EXISTING_ITEMS
    assert len(first.existing) == DEMO_EXISTING_ITEMS
    assert sorted(Offer.objects.filter(seller_id=first.seller_id).values_list("sku", flat=True)) == sorted(
        item.sku for item in first.existing
    )
    assert len({identifier["productId"] for identifier in first.identifiers}) == 12
    assert all(gtin_is_valid(identifier["productId"]) for identifier in first.identifiers)
    assert (
        services.token_issue(client_id=first.client_id, client_secret=first.client_secret).seller_id == first.seller_id
    )


def test_trickle_places_orders_only_for_flagged_sellers(seller):
    flagged = services.seller_create(name="Demo", simulate_orders=True)
    published_offer(flagged, "SKU-1", index=1, quantity=10)
    published_offer(seller, "SKU-1", index=2, quantity=10)
    emulator_order_trickle_task.delay()
    assert list(Order.objects.values_list("seller__name", flat=True)) == ["Demo"]
    assert Offer.objects.get(seller=seller).quantity == 10


def test_sweep_task_and_schedules(seller):
    published_offer(seller, "SKU-1", quantity=10)
    order = services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    services.token_issue(client_id=seller.client_id, client_secret=seller.client_secret)
    services.clock_advance(seconds=10 * 86400)
    fresh = services.token_issue(client_id=seller.client_id, client_secret=seller.client_secret)
    emulator_sweep_task.delay()
    assert Order.objects.get(pk=order.pk).is_open is False
    assert list(AccessToken.objects.values_list("token", flat=True)) == [fresh.token]
    assert {job.task for job in SCHEDULES} == {
        "walmart_emulator.tasks.emulator_sweep_task",
        "walmart_emulator.tasks.emulator_order_trickle_task",
    }
