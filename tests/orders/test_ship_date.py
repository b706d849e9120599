"""Issue 14, item 8: the ship date is within what Walmart takes (not before the order, not in the future beyond
ORDERS_SHIP_DATE_MAX_DAYS_AHEAD); 9999-12-31 is refused with a clear form error and never sent."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from orders.mapping import ship_date_error
from orders.models import Shipment
from orders.services import shipment_create
from tests.orders.conftest import after_commit
from tests.orders.test_pushes import SHIP_FORM, quantity_field, ship_url

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


ORDERED = datetime(2026, 11, 20, 15, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ship_date", "error"),
    [
        (ORDERED.replace(second=0), ""),
        (NOW, ""),
        (NOW + timedelta(days=1), ""),
        (None, "Enter the ship date and time."),
        (datetime(2026, 12, 6, 12, 0), "Enter the ship date and time."),  # noqa: DTZ001 - a naive value on purpose
        (ORDERED - timedelta(minutes=1), "The ship date cannot be before the order was placed (2026-11-20 15:00 UTC)."),
        (
            NOW + timedelta(days=1, minutes=1),
            "The ship date cannot be more than 1 day(s) ahead (latest 2026-12-07 12:00 UTC): Walmart records when "
            "the package shipped.",
        ),
        (
            datetime(9999, 12, 31, tzinfo=UTC),
            "The ship date cannot be more than 1 day(s) ahead (latest 2026-12-07 12:00 UTC): Walmart records when "
            "the package shipped.",
        ),
    ],
)
def test_ship_date_window(ship_date, error):
    assert ship_date_error(ship_date=ship_date, ordered_at=ORDERED, now=NOW, days_ahead=1) == error


def test_the_ship_form_refuses_9999_12_31_with_a_clear_error_and_sends_nothing(
    operator_client,
    store,
    order,
    walmart_api,
):
    # when: the operator ships with the ship date 9999-12-31
    with after_commit():
        response = operator_client.post(
            ship_url(store, order), {**SHIP_FORM, "ship_date": "9999-12-31T10:00", quantity_field(order): 1}
        )
    # then: the form is shown again with the reason; no shipment, nothing sent to Walmart
    assert response.status_code == 200
    assert "The ship date cannot be more than 1 day(s) ahead" in response.content.decode()
    assert not Shipment.objects.exists()
    assert [call.request.url for call in walmart_api.calls if "/shipping" in call.request.url] == []


def test_the_service_refuses_a_ship_date_out_of_the_window_too(store, order, walmart_api):
    # when: a shipment is created with a far-future date without the form (admin, another caller)
    with pytest.raises(ValidationError) as raised, after_commit():
        shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="1Z-9",
            method_code="Standard",
            ship_date=datetime(9999, 12, 31, tzinfo=UTC),
            carrier="UPS",
        )
    # then
    assert list(raised.value.message_dict) == ["ship_date"]
    assert raised.value.message_dict["ship_date"][0].startswith("The ship date cannot be more than 1 day(s) ahead")
    assert not Shipment.objects.exists()
