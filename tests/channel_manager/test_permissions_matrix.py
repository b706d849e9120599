"""Who may do what, over every URL of the dashboard: each role (store viewer, operator, manager, non-member)
and each catalog permission against every page, by GET and by POST, with the expected answer.

RULES names what each URL needs. The URL conf is walked (tests/channel_manager/urlwalk.py), so a URL added
later without a rule fails `test_every_url_has_a_rule`. Answers: allowed = anything but 403 / 404 (the page,
a redirect after the action, a form error); a member whose role is too low gets 403; a non-member gets
404 for every store page (a store's existence does not leak); missing catalog permission is 403.
"""

from decimal import Decimal

import pytest
import responses
from django.utils import timezone

from channel_manager.models import StoreMembership
from listings.models import ImportJob
from onboarding.models import WalmartImport, WalmartItem
from orders.models import Shipment
from returns.models import Refund
from returns.services import return_upsert_from_walmart
from tests.channel_manager.urlwalk import url_patterns
from tests.factories import StoreMembershipFactory, UserFactory, catalog_group_join
from tests.listings.factories import ProductFactory
from tests.returns.factories import return_json, shipped_order
from walmart_client.models import WalmartReturn

pytestmark = pytest.mark.django_db

Role = StoreMembership.Role
VIEWER, OPERATOR, MANAGER = Role.VIEWER, Role.OPERATOR, Role.MANAGER
# Catalog permissions (listings/permissions.py) and their groups.
CATALOG_VIEW, CATALOG_EDIT, CATALOG_IMPORT = "Catalog viewers", "Catalog editors", "Catalog importers"
ANY = "any logged-in user"

# URL name -> {method: what it needs}. A store role, a catalog group, both (a tuple), or ANY.
RULES: dict[str, dict[str, object]] = {
    "home": {"GET": ANY},
    "store_list": {"GET": ANY},
    "store_create": {"GET": ANY, "POST": ANY},
    "store_detail": {"GET": VIEWER},
    "store_settings": {"GET": MANAGER},
    "store_connection": {"GET": MANAGER, "POST": MANAGER},
    "store_connection_test": {"POST": MANAGER},
    "store_general_settings": {"GET": MANAGER, "POST": MANAGER},
    "store_members": {"GET": MANAGER, "POST": MANAGER},
    "password_change": {"GET": ANY, "POST": ANY},
    "password_change_done": {"GET": ANY},
    "listings:product_list": {"GET": CATALOG_VIEW},
    "listings:product_create": {"GET": CATALOG_EDIT, "POST": CATALOG_EDIT},
    "listings:product_edit": {"GET": CATALOG_EDIT, "POST": CATALOG_EDIT},
    "listings:add_to_store": {"POST": (CATALOG_VIEW, OPERATOR)},
    "listings:import": {"GET": CATALOG_IMPORT, "POST": CATALOG_IMPORT},
    "listings:import_template": {"GET": CATALOG_IMPORT},
    "listings:import_detail": {"GET": CATALOG_IMPORT},
    "listings:import_progress": {"GET": CATALOG_IMPORT},
    "listings:import_errors_csv": {"GET": CATALOG_IMPORT},
    "listings:export": {"GET": CATALOG_IMPORT},
    "listings:listing_list": {"GET": VIEWER},
    "listings:listing_action": {"POST": OPERATOR},
    "listings:attribute_mapping": {"GET": MANAGER, "POST": MANAGER},
    "orders:order_list": {"GET": VIEWER},
    "orders:order_detail": {"GET": VIEWER},
    "orders:order_ship": {"GET": OPERATOR, "POST": OPERATOR},
    "orders:order_cancel": {"GET": OPERATOR, "POST": OPERATOR},
    "orders:order_refresh": {"POST": OPERATOR},
    "orders:order_acknowledge": {"POST": OPERATOR},
    "orders:operation_retry": {"POST": OPERATOR},
    "orders:operation_discard": {"POST": OPERATOR},
    "orders:carrier_mapping": {"GET": MANAGER, "POST": MANAGER},
    "orders:order_settings": {"GET": MANAGER, "POST": MANAGER},
    "orders:webhook_settings": {"GET": MANAGER, "POST": MANAGER},
    "returns:return_list": {"GET": VIEWER},
    "returns:return_detail": {"GET": VIEWER, "POST": OPERATOR},
    "returns:return_restock": {"POST": OPERATOR},
    "returns:refund_retry": {"POST": OPERATOR},
    "returns:return_refresh": {"POST": OPERATOR},
    "returns:returns_poll": {"POST": OPERATOR},
    "returns:return_settings": {"GET": MANAGER, "POST": MANAGER},
    "sync:sync_dashboard": {"GET": VIEWER},
    "sync:sync_preview": {"GET": VIEWER},
    "sync:sync_preview_json": {"GET": VIEWER},
    "sync:sync_run": {"POST": OPERATOR},
    "sync:sync_reconcile": {"POST": OPERATOR},
    "sync:sync_settings": {"GET": MANAGER, "POST": MANAGER},
    "onboarding:item_list": {"GET": VIEWER},
    "onboarding:listings_card": {"GET": VIEWER},
    "onboarding:import_start": {"POST": OPERATOR},
    "onboarding:import_progress": {"GET": VIEWER},
    "onboarding:item_action": {"POST": OPERATOR},
    "onboarding:item_link": {"POST": OPERATOR},
    "onboarding:item_create": {"POST": (CATALOG_EDIT, OPERATOR)},
    "onboarding:product_search": {"GET": (CATALOG_VIEW, OPERATOR)},
    "onboarding:first_push": {"GET": VIEWER, "POST": OPERATOR},
    "onboarding:sku_link": {"POST": OPERATOR},
}
# What a POST sends where an empty form would be refused before the check (the store is in the body).
POST_DATA = {"listings:add_to_store": lambda values: {"store": values["store_id"], "product": values["product_id"]}}
# Pages outside this matrix: public ones (tests/channel_manager/urlwalk.py PUBLIC_PAGES), log-out, machine
# endpoints (their own authentication), and admin (Django's model permissions; see test_admin_permissions.py).
OUTSIDE = {"login", "logout", "healthz", "admin:login"}

STORE_ROLES = [None, VIEWER, OPERATOR, MANAGER]  # None: not a member
CATALOG_GROUPS = [None, CATALOG_VIEW, CATALOG_EDIT, CATALOG_IMPORT]
CATALOG_ORDER = [None, CATALOG_VIEW, CATALOG_EDIT, CATALOG_IMPORT]


def _walked():
    return [
        pattern
        for pattern in url_patterns()
        if not pattern.is_machine_endpoint and pattern.name not in OUTSIDE and not pattern.route.startswith("admin/")
    ]


def test_every_url_has_a_rule():
    missing = sorted({pattern.name or pattern.route for pattern in _walked()} - set(RULES))
    assert missing == [], f"Add these URLs to RULES with what they need: {missing}"


def test_every_rule_is_a_url():
    assert sorted(set(RULES) - {pattern.name for pattern in _walked()}) == []


def _allowed(need, *, role, group) -> bool:
    if need == ANY:
        return True
    needs = need if isinstance(need, tuple) else (need,)
    for part in needs:
        if part in Role.values and not StoreMembership.role_allows(role, part):
            return False
        if part in CATALOG_ORDER and CATALOG_ORDER.index(group) < CATALOG_ORDER.index(part):
            return False
    return True


def _expected(need, *, role, group) -> str:
    """ "allowed", or the refusal: 404 for a store page of a store the user is not a member of, else 403."""
    if _allowed(need, role=role, group=group):
        return "allowed"
    needs = need if isinstance(need, tuple) else (need,)
    store_page = any(part in Role.values for part in needs)
    return (
        "404"
        if store_page
        and role is None
        and all(part in Role.values or CATALOG_ORDER.index(group) >= CATALOG_ORDER.index(part) for part in needs)
        else "403"
    )


@pytest.fixture
def world(store):
    """One of everything a URL can point at, in `store`."""
    order = shipped_order(store)
    stored_return, _ = return_upsert_from_walmart(store=store, remote=WalmartReturn.from_api(return_json()))
    shipment = Shipment.objects.create(
        order=order, method_code="Standard", tracking_number="1Z", carrier="UPS", ship_date=timezone.now()
    )
    refund = Refund.objects.create(return_order=stored_return, amount=Decimal("1.00"))
    product = ProductFactory(sku="MATRIX-1")
    walmart_import = WalmartImport.objects.create(store=store, status=WalmartImport.Status.DONE)
    walmart_item = WalmartItem.objects.create(store=store, sku="MATRIX-WM-1", imported_at=timezone.now())
    return {
        "import_id": walmart_import.pk,
        "item_id": walmart_item.pk,
        "store_id": store.pk,
        "order_id": order.pk,
        "return_id": stored_return.pk,
        "refund_id": refund.pk,
        "kind": "shipment",
        "operation_id": shipment.pk,
        "product_id": product.pk,
        "stream": "inventory",
    }


def _answer(response) -> str:
    if response.status_code in (403, 404):
        return str(response.status_code)
    return "allowed"


@pytest.mark.parametrize("role", STORE_ROLES, ids=lambda role: role or "non-member")
def test_each_store_role_gets_the_expected_answer_on_every_url(client, store, world, role):
    # given: a user with this role in the store and every catalog permission (so only the role decides)
    # when / then
    answers, expected = _walk(client, store, world, role=role, group=CATALOG_IMPORT)
    assert answers == expected


@pytest.mark.parametrize("group", CATALOG_GROUPS, ids=lambda group: group or "no catalog permission")
def test_each_catalog_permission_gets_the_expected_answer_on_every_url(client, store, world, group):
    # given: a manager of the store (so only the catalog permission decides)
    # when / then
    answers, expected = _walk(client, store, world, role=MANAGER, group=group)
    assert answers == expected


def _walk(client, store, world: dict, *, role, group) -> tuple[dict, dict]:
    """Log in a user with `role` in `store` (None: not a member) and catalog `group`, then ask every URL by
    every method its rule names: (answers, expected answers)."""
    user = UserFactory(username=f"matrix-{role}-{group}")
    if group:
        catalog_group_join(user, group)
    StoreMembership.objects.filter(store=store).delete()
    if role:
        StoreMembershipFactory(store=store, user=user, role=role)
    client.force_login(user)
    client.raise_request_exception = False  # a failure after the check still proves the check let it through
    job = ImportJob.objects.create(file="x.csv", original_filename="x.csv", created_by=user, status="done")
    values = {**world, "job_id": job.pk}
    answers, expected = {}, {}
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # nothing leaves the process
        for pattern in _walked():
            url = pattern.url(**{name: values[name] for name in pattern.parameters if name in values})
            for method, need in RULES[pattern.name].items():
                data = POST_DATA.get(pattern.name, lambda values: {})(values)
                response = client.get(url) if method == "GET" else client.post(url, data)
                answers[f"{method} {pattern.name}"] = _answer(response)
                expected[f"{method} {pattern.name}"] = _expected(need, role=role, group=group)
    return answers, expected
