"""Issue 14, items 6 and 7: a validly signed delivery of the wrong shape is a clear 400, never a 500; basic
authentication never accepts an empty password."""

import base64
import json

import pytest
from django.urls import reverse

from orders.models import OrderSettings, WebhookEvent
from tests.orders.conftest import after_commit
from tests.orders.test_intake import post_webhook, signature

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("envelope", "error"),
    [
        ({"source": "PO_CREATED", "payload": {"purchaseOrderId": "PO-1"}}, "source must be an object, got a string."),
        ({"source": {"eventId": "evt-1"}, "payload": ["PO-1"]}, "payload must be an object, got a list."),
        ({"source": "PO_CREATED", "payload": []}, "source must be an object, got a string."),
        ({"source": {"eventId": {"id": 1}}, "payload": {}}, "source.eventId must be a string, got an object."),
        (
            {"source": {"eventId": "evt-1"}, "payload": {"purchaseOrderId": ["PO-1"]}},
            "payload.purchaseOrderId must be a string, got a list.",
        ),
        ({"source": {"eventType": "PO_CREATED"}, "payload": {}}, "The delivery has no source.eventId."),
    ],
)
def test_a_signed_delivery_of_the_wrong_shape_is_refused_with_a_clear_400(
    client, store, walmart_api, order_settings, envelope, error
):
    # given: a body signed with the store's secret, but not of Walmart's shape
    body = json.dumps(envelope).encode()
    # when
    with after_commit():
        response = post_webhook(client, order_settings, body, signature(store, body))
    # then: 400 saying what is wrong; nothing recorded, nothing asked of Walmart
    assert response.status_code == 400
    assert response.json() == {"error": f"bad payload: {error}"}
    assert WebhookEvent.objects.count() == 0
    assert len(walmart_api.calls) == 0


@pytest.fixture
def basic_auth_without_password(order_settings):
    """Basic authentication chosen with a user name and no password (as a settings row could be left)."""
    OrderSettings.objects.filter(pk=order_settings.pk).update(
        webhook_auth_method=OrderSettings.WebhookAuth.BASIC,
        webhook_auth_header="Authorization",
        webhook_basic_username="walmart",
        webhook_basic_password_encrypted="",
    )
    return OrderSettings.objects.get(pk=order_settings.pk)


@pytest.mark.parametrize("credentials", [b"walmart:", b"walmart", b":"])
def test_basic_auth_never_accepts_an_empty_password(
    client, store, walmart_api, basic_auth_without_password, credentials
):
    # when: a delivery authenticates with the user name and an empty password
    body = json.dumps({"source": {"eventId": "evt-1"}, "payload": {"purchaseOrderId": "PO-1"}}).encode()
    with after_commit():
        response = client.post(
            reverse("orders:webhook_receive", args=[basic_auth_without_password.webhook_token]),
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(credentials).decode(),
        )
    # then
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert len(walmart_api.calls) == 0


def test_the_order_settings_refuse_basic_auth_without_a_password(operator_client, store, order_settings):
    # when: Basic is chosen with a user name and no password (none stored either)
    response = operator_client.post(
        reverse("orders:order_settings", args=[store.pk]),
        {
            "commerce_order_prefix": "WM",
            "auto_acknowledge": "on",
            "poll_interval_seconds": 300,
            "poll_overlap_seconds": 600,
            "webhook_auth_method": OrderSettings.WebhookAuth.BASIC,
            "webhook_auth_header": "Authorization",
            "webhook_basic_username": "walmart",
            "webhook_basic_password": "",
        },
    )
    # then: the form says why, and nothing changed
    assert response.status_code == 200
    assert "Basic authentication needs a password (an empty one would let anyone in)." in response.content.decode()
    order_settings.refresh_from_db()
    assert order_settings.webhook_auth_method == OrderSettings.WebhookAuth.HMAC
