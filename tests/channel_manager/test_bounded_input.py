"""Every page, asked with numbers no one types (5,000 digits, 30 digits, negative) in its query string,
answers without a server error: page numbers, page sizes, line ids and admin paging are parsed bounded."""

import pytest

from tests.channel_manager.urlwalk import url_patterns
from tests.returns.factories import shipped_order

pytestmark = pytest.mark.django_db

FIVE_THOUSAND_DIGITS = "9" * 5000  # more than int() converts
THIRTY_DIGITS = "9" * 30  # more than any integer column holds
QUERY = {
    "page": FIVE_THOUSAND_DIGITS,
    "per_page": THIRTY_DIGITS,
    "line": THIRTY_DIGITS,
    "p": FIVE_THOUSAND_DIGITS,  # admin paging
    "o": THIRTY_DIGITS,  # admin ordering
    "status": FIVE_THOUSAND_DIGITS,
    "sort": "-" + THIRTY_DIGITS,
    "q": THIRTY_DIGITS,
}


def test_no_page_fails_on_a_huge_number_in_its_query_string(client, operator, superuser, store):
    # given: a member of a store with an order (dashboard pages), and ops staff (admin pages)
    order = shipped_order(store)
    query = "&".join(f"{name}={value}" for name, value in QUERY.items())
    failures = []
    for pattern in url_patterns():
        if pattern.is_machine_endpoint or pattern.name == "logout":
            continue
        client.force_login(superuser if (pattern.name or "").startswith("admin:") else operator)
        url = pattern.url(**{"store_id": store.pk, "order_id": order.pk} if "store_id" in pattern.parameters else {})
        # when
        response = client.get(f"{url}?{query}")
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
    # then
    assert failures == []
