"""Issue 14, item 9: the webhook endpoint comes from PUBLIC_BASE_URL, never from the request's Host header; the
emulator does not echo connection errors; a store's emulator URL can only be on this machine."""

import json

import pytest
import responses
from django.urls import reverse

from channel_manager.admin import StoreAdminForm
from channel_manager.models import Store
from tests.orders.conftest import calls_to
from walmart_emulator import services as emulator
from walmart_emulator.errors import EmulatorError
from walmart_emulator.webhooks import webhook_test

pytestmark = pytest.mark.django_db


def test_the_webhook_test_is_sent_to_the_configured_public_address_whatever_the_host_header(
    operator_client, store, walmart_api, api_base, order_settings, settings
):
    # given: the installation's public address; Walmart validates any URL
    settings.PUBLIC_BASE_URL = "https://cm.example.com/"
    walmart_api.add(responses.POST, f"{api_base}/v3/webhooks/test", json={"message": "Eventurl successfully validated"})
    # when: the test is asked for with a Host header pointing elsewhere (an internal host and port)
    response = operator_client.post(
        reverse("orders:webhook_settings", args=[store.pk]), {"action": "test"}, HTTP_HOST="10.0.0.7:6379"
    )
    # then: Walmart was given the configured address, not the Host header's
    assert response.status_code == 302
    (call,) = calls_to(walmart_api, "POST", "/v3/webhooks/test")
    endpoint = "https://cm.example.com" + reverse("orders:webhook_receive", args=[order_settings.webhook_token])
    assert json.loads(call.request.body)["eventUrl"] == endpoint


def test_without_a_public_address_nothing_is_subscribed_or_tested(
    operator_client, store, walmart_api, api_base, order_settings, settings
):
    # given
    settings.PUBLIC_BASE_URL = ""
    url = reverse("orders:webhook_settings", args=[store.pk])
    # when
    tested = operator_client.post(url, {"action": "test"}, follow=True)
    subscribed = operator_client.post(url, {"action": "subscribe"}, follow=True)
    # then: the page says why; nothing was subscribed or tested on Walmart (the page only reads the list)
    for response in (tested, subscribed):
        assert "This installation has no public address (set PUBLIC_BASE_URL" in response.content.decode()
    posted = [call.request.url for call in walmart_api.calls if call.request.method == "POST"]
    assert [url for url in posted if "/webhooks/" in url] == []


def test_the_emulator_does_not_echo_connection_errors():
    # given: a seller, and a URL nothing listens on
    seller = emulator.seller_create(name="Port scan")
    event = {
        "eventType": "PO_CREATED",
        "eventVersion": "V1",
        "resourceName": "ORDER",
        "eventUrl": "http://127.0.0.1:9/x",
    }
    # when
    with pytest.raises(EmulatorError) as raised:
        webhook_test(seller=seller, body=event)
    # then: the answer says the URL could not be reached, nothing about why (refused, timed out, which port)
    assert str(raised.value) == "eventUrl could not be reached."


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000/walmart-emulator", True),
        ("http://localhost:8765/walmart-emulator", True),
        ("http://[::1]:8000/walmart-emulator", True),
        ("http://10.0.0.7:6379/", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("https://example.com/walmart-emulator", False),
        ("http://user:secret@127.0.0.1:8000/walmart-emulator", False),
        ("ftp://127.0.0.1/walmart-emulator", False),
    ],
)
def test_staff_can_point_a_store_only_at_an_emulator_on_this_machine(url, allowed):
    # when: the store admin form is given an emulator URL
    form = StoreAdminForm(
        data={
            "name": "Emulated",
            "environment": Store.Environment.EMULATOR,
            "emulator_base_url": url,
            "client_id": "client",
            "new_client_secret": "secret",
        }
    )
    # then
    assert form.is_valid() is allowed, form.errors
    if not allowed:
        assert list(form.errors) == ["emulator_base_url"]
