"""Fixtures for walmart_client tests: a client on a fake base URL whose sleeps are recorded, not slept,
and `responses` at the HTTP boundary."""

from __future__ import annotations

import pytest
import responses

from walmart_client import WalmartClient

BASE_URL = "https://walmart.test"
CLIENT_ID = "client-id-123"
CLIENT_SECRET = "s3cr3t-VALUE-never-logged"
TOKEN = "token-AAA"


class SleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def add_token(api, token: str = TOKEN, expires_in: int = 900) -> None:
    api.add(
        responses.POST,
        BASE_URL + "/v3/token",
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
    )


@pytest.fixture
def token(api):
    add_token(api)
    return TOKEN


@pytest.fixture
def make_client(sleeps):
    def build(**kwargs) -> WalmartClient:
        options = {
            "base_url": BASE_URL,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "sleep": sleeps,
            "jitter": lambda: 0.0,
        }
        options.update(kwargs)
        return WalmartClient(**options)

    return build


@pytest.fixture
def client(make_client, token):
    return make_client()


def calls_to(api, path: str, method: str | None = None) -> list:
    """Recorded calls whose path (without query) is `path`."""
    result = []
    for call in api.calls:
        url = call.request.url.split("?", 1)[0]
        if url == BASE_URL + path and (method is None or call.request.method == method):
            result.append(call)
    return result
