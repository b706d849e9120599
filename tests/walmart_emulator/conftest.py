"""Fixtures for the emulator's tests: a seller with a token, and a client that speaks Walmart's headers."""

import uuid

import pytest
from django.test import Client

from walmart_emulator import services
from walmart_emulator.models import Seller

BASE = "/walmart-emulator"


class WalmartTestClient:
    """Django's test client with Walmart's headers (token, correlation id, service name)."""

    def __init__(self, client: Client, token: str | None, seller: Seller | None = None) -> None:
        self.client = client
        self.token = token
        self.seller = seller

    def _fresh_token(self) -> str | None:
        """A token valid on the emulator clock (tests move the clock past 15 minutes)."""
        from walmart_emulator.clock import emulator_now
        from walmart_emulator.models import AccessToken

        if (
            self.seller is not None
            and not AccessToken.objects.filter(token=self.token, expires_at__gt=emulator_now()).exists()
        ):
            self.token = services.token_issue(
                client_id=self.seller.client_id, client_secret=self.seller.client_secret
            ).token
        return self.token

    def headers(self, **extra) -> dict:
        headers = {
            "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
            "WM_SVC.NAME": "Walmart Marketplace",
            "Accept": "application/json",
        }
        if self.token:
            headers["WM_SEC.ACCESS_TOKEN"] = self._fresh_token()
        headers.update(extra)
        return headers

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(BASE + path, params or {}, headers=self.headers(**extra))

    def delete(self, path: str, **extra):
        return self.client.delete(BASE + path, headers=self.headers(**extra))

    def post(self, path: str, body=None, *, query: str = "", **extra):
        import json

        data = b"" if body is None else json.dumps(body)
        return self.client.post(
            BASE + path + query, data, content_type="application/json", headers=self.headers(**extra)
        )

    def put(self, path: str, body, *, query: str = "", **extra):
        import json

        return self.client.put(
            BASE + path + query, json.dumps(body), content_type="application/json", headers=self.headers(**extra)
        )

    def patch(self, path: str, body, **extra):
        import json

        return self.client.patch(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers(**extra)
        )

    def post_feed(self, feed_type: str, payload: bytes | str, **extra):
        from django.core.files.uploadedfile import SimpleUploadedFile

        content = payload.encode() if isinstance(payload, str) else payload
        upload = SimpleUploadedFile("feed.json", content, content_type="application/json")
        return self.client.post(
            f"{BASE}/v3/feeds?feedType={feed_type}", {"file": upload}, headers=self.headers(**extra)
        )


@pytest.fixture(autouse=True)
def _emulator_settings(settings):
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
    settings.WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS = 0


@pytest.fixture
def seller(db) -> Seller:
    return services.seller_create(name="Acme seller", client_id="acme-client", client_secret="acme-secret")


@pytest.fixture
def wm(client, seller) -> WalmartTestClient:
    token = services.token_issue(client_id=seller.client_id, client_secret=seller.client_secret)
    return WalmartTestClient(client, token.token, seller)


@pytest.fixture
def anonymous_wm(client) -> WalmartTestClient:
    return WalmartTestClient(client, None)


@pytest.fixture
def http_seller(transactional_db) -> Seller:
    """A seller for tests that drive the real client over HTTP (tests/walmart_emulator/live.py)."""
    return services.seller_create(name="Client seller", client_id="client-seller", client_secret="client-secret")


@pytest.fixture
def live_client(live_server, http_seller):
    """The real WalmartClient for `http_seller`, on the live server; waits for the server's threads after."""
    from tests.walmart_emulator.live import live_server_threads_wait, make_client

    with make_client(live_server, http_seller) as walmart:
        yield walmart
    live_server_threads_wait()
