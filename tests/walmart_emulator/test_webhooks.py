"""Webhook subscriptions API and deliveries (signed, retried, recorded). Outbound HTTP is mocked with `responses`."""

import base64
import hashlib
import hmac
import json

import pytest
import responses

from tests.walmart_emulator.factories import published_offer
from tests.walmart_emulator.spec import assert_matches_spec, requires_specs
from walmart_emulator import services
from walmart_emulator.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db
HOOK = "https://shop.example/hooks/walmart"


def subscribe(wm, event_type="PO_CREATED", url=HOOK, auth=None, status="ACTIVE"):
    event = {"eventType": event_type, "eventVersion": "V1", "resourceName": "ORDER", "eventUrl": url, "status": status}
    if auth is not None:
        event["authDetails"] = auth
    return wm.post("/v3/webhooks/subscriptions", {"events": [event]})


@requires_specs
def test_subscriptions_create_list_patch_delete(wm, seller):
    response = subscribe(wm, auth={"authMethod": "HMAC"})
    assert response.status_code == 200
    assert_matches_spec("notifications", "/v3/webhooks/subscriptions", "post", "200", response.json())
    subscription_id = response.json()["events"][0]["subscriptionId"]
    listed = wm.get("/v3/webhooks/subscriptions").json()
    assert_matches_spec("notifications", "/v3/webhooks/subscriptions", "get", "200", listed)
    assert [event["subscriptionId"] for event in listed["events"]] == [subscription_id]
    patched = wm.patch(f"/v3/webhooks/subscriptions/{subscription_id}", {"status": "INACTIVE"})
    assert_matches_spec("notifications", "/v3/webhooks/subscriptions/{subscriptionId}", "patch", "200", patched.json())
    assert patched.json()["status"] == "INACTIVE"
    assert WebhookSubscription.objects.get().status == "INACTIVE"
    deleted = wm.delete(f"/v3/webhooks/subscriptions/{subscription_id}")
    assert_matches_spec("notifications", "/v3/webhooks/subscriptions/{subscriptionId}", "delete", "200", deleted.json())
    assert not WebhookSubscription.objects.exists()
    assert wm.delete(f"/v3/webhooks/subscriptions/{subscription_id}").status_code == 404


@requires_specs
def test_event_types(wm, seller):
    body = wm.get("/v3/webhooks/eventTypes").json()
    assert_matches_spec("notifications", "/v3/webhooks/eventTypes", "get", "200", body)
    assert {event["eventType"] for event in body["eventTypes"]} >= {
        "PO_CREATED",
        "INTENT_TO_CANCEL",
        "PO_LINE_AUTOCANCELLED",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventType": "NOPE"}, "eventType"),
        ({"eventUrl": "ftp://x"}, "eventUrl"),
        ({"status": "ON"}, "status"),
        ({"eventVersion": "V9"}, "eventVersion"),
    ],
)
def test_bad_subscriptions_are_refused(wm, seller, change, field):
    event = {
        "eventType": "PO_CREATED",
        "eventVersion": "V1",
        "resourceName": "ORDER",
        "eventUrl": HOOK,
        "status": "ACTIVE",
        **change,
    }
    response = wm.post("/v3/webhooks/subscriptions", {"events": [event]})
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == field
    assert not WebhookSubscription.objects.exists()


def test_duplicate_subscription_is_refused(wm, seller):
    assert subscribe(wm).status_code == 200
    assert subscribe(wm).status_code == 400
    assert WebhookSubscription.objects.count() == 1


@responses.activate
def test_po_created_is_delivered_signed_with_hmac_hex(wm, seller, django_capture_on_commit_callbacks):
    subscribe(wm, auth={"authMethod": "HMAC", "authHeaderName": "WM_SEC.SIGNATURE"})
    responses.add(responses.POST, HOOK, status=200)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_simulate(seller=seller, lines=[("SKU-1", 2)])
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    expected = hmac.new(b"acme-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["WM_SEC.SIGNATURE"] == expected
    body = json.loads(request.body)
    assert body["source"]["eventType"] == "PO_CREATED"
    assert body["payload"]["purchaseOrderId"] == order.purchase_order_id
    assert body["payload"]["orderLines"][0]["quantity"] == {"unitOfMeasure": "EACH", "measurementValue": 2}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("DELIVERED", 1, 200)
    assert delivery.event_id == body["source"]["eventId"]


@responses.activate
def test_basic_auth_delivery(wm, seller, django_capture_on_commit_callbacks):
    subscribe(wm, auth={"authMethod": "BASIC_AUTH", "userName": "walmart", "password": "s3cret"})
    responses.add(responses.POST, HOOK, status=204)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    assert (
        responses.calls[0].request.headers["Authorization"] == "Basic " + base64.b64encode(b"walmart:s3cret").decode()
    )
    assert WebhookDelivery.objects.get().status == "DELIVERED"


@responses.activate
def test_failed_delivery_is_retried_then_marked_failed(wm, seller, django_capture_on_commit_callbacks, settings):
    settings.WALMART_EMULATOR_WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(wm)
    responses.add(responses.POST, HOOK, status=500)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    assert len(responses.calls) == 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "FAILED",
        3,
        500,
        "HTTP 500",
    )


@responses.activate
def test_delivery_recovers_on_a_later_attempt(wm, seller, django_capture_on_commit_callbacks):
    subscribe(wm)
    responses.add(responses.POST, HOOK, status=503)
    responses.add(responses.POST, HOOK, status=200)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 2)


@responses.activate
def test_intent_to_cancel_and_auto_cancel_events(wm, seller, django_capture_on_commit_callbacks):
    subscribe(wm, event_type="INTENT_TO_CANCEL")
    subscribe(wm, event_type="PO_LINE_AUTOCANCELLED")
    subscribe(wm, event_type="ORDER_UPDATES", url=HOOK + "/all")
    responses.add(responses.POST, HOOK, status=200)
    responses.add(responses.POST, HOOK + "/all", status=200)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
        services.order_intent_to_cancel(seller=seller, purchase_order_id=order.purchase_order_id)
    services.clock_advance(seconds=6 * 86400)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.orders_auto_cancel_due() == 1
    sent = [(call.request.url, json.loads(call.request.body)) for call in responses.calls]
    direct = [body["source"]["eventType"] for url, body in sent if url == HOOK]
    assert direct == ["INTENT_TO_CANCEL", "PO_LINE_AUTOCANCELLED"]
    updates = [body["payload"]["subEventType"] for url, body in sent if url == HOOK + "/all"]
    assert updates == ["PO_CREATED", "INTENT_TO_CANCEL", "PO_LINE_AUTOCANCELLED"]


@responses.activate
def test_inactive_subscription_gets_nothing(wm, seller, django_capture_on_commit_callbacks):
    subscribe(wm, status="INACTIVE")
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    assert len(responses.calls) == 0
    assert not WebhookDelivery.objects.exists()


@responses.activate
def test_webhook_test_endpoint(wm, seller):
    responses.add(responses.POST, HOOK, status=200)
    event = {
        "eventType": "PO_CREATED",
        "eventVersion": "V1",
        "resourceName": "ORDER",
        "eventUrl": HOOK,
        "status": "ACTIVE",
    }
    response = wm.post("/v3/webhooks/test", event)
    assert response.json() == {"message": "Eventurl successfully validated"}
    responses.replace(responses.POST, HOOK, status=401)
    assert wm.post("/v3/webhooks/test", event).status_code == 400


@responses.activate
def test_oauth_delivery_fetches_a_token_first(wm, seller, django_capture_on_commit_callbacks):
    auth = {
        "authMethod": "OAUTH",
        "authUrl": "https://shop.example/oauth/token",
        "clientId": "wm",
        "clientSecret": "pw",
    }
    assert subscribe(wm, auth=auth).status_code == 200
    responses.add(responses.POST, "https://shop.example/oauth/token", json={"access_token": "tok-1", "expires_in": 900})
    responses.add(responses.POST, HOOK, status=200)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    token_call, delivery_call = responses.calls
    assert token_call.request.body == "grant_type=client_credentials"
    assert token_call.request.headers["Authorization"] == "Basic " + base64.b64encode(b"wm:pw").decode()
    assert delivery_call.request.headers["Authorization"] == "Bearer tok-1"
    assert WebhookDelivery.objects.get().status == "DELIVERED"


@responses.activate
def test_oauth_token_failure_is_a_failed_attempt(wm, seller, django_capture_on_commit_callbacks, settings):
    settings.WALMART_EMULATOR_WEBHOOK_MAX_ATTEMPTS = 2
    auth = {
        "authMethod": "OAUTH",
        "authUrl": "https://shop.example/oauth/token",
        "clientId": "wm",
        "clientSecret": "pw",
    }
    subscribe(wm, auth=auth)
    responses.add(responses.POST, "https://shop.example/oauth/token", status=401)
    published_offer(seller, "SKU-1", quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("FAILED", 2)
    assert delivery.last_error == "OAuth token request answered HTTP 401 without access_token"
    assert [call.request.url for call in responses.calls] == ["https://shop.example/oauth/token"] * 2
