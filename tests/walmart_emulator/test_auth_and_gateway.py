"""Token issue, token checks, required headers and the error shape on every refusal."""

import base64
import uuid
from datetime import timedelta

import pytest

from tests.walmart_emulator.conftest import BASE, WalmartTestClient
from tests.walmart_emulator.spec import assert_matches_spec, assert_valid, requires_specs, schema_at
from walmart_emulator import services
from walmart_emulator.models import AccessToken, RateLimitBucket

pytestmark = pytest.mark.django_db


def token_request(client, client_id: str, secret: str, *, grant_type: str = "client_credentials", headers=None):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    all_headers = {
        "Authorization": f"Basic {basic}",
        "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
        "WM_SVC.NAME": "Walmart Marketplace",
        "Accept": "application/json",
    }
    if headers is not None:
        all_headers = {key: value for key, value in all_headers.items() if key not in headers} | {
            key: value for key, value in headers.items() if value is not None
        }
    return client.post(f"{BASE}/v3/token", {"grant_type": grant_type}, headers=all_headers)


@requires_specs
def test_token_is_issued_for_15_minutes(client, seller):
    # when
    response = token_request(client, "acme-client", "acme-secret")
    # then
    assert response.status_code == 200
    body = response.json()
    assert_matches_spec("authentication", "/v3/token", "post", "200", body)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    row = AccessToken.objects.get(token=body["access_token"])
    assert row.seller == seller
    assert row.expires_at - row.issued_at == timedelta(seconds=900)


def test_wrong_secret_is_401_in_walmart_shape_and_issues_nothing(client, seller):
    response = token_request(client, "acme-client", "not-the-secret")
    assert response.status_code == 401
    error = response.json()["errors"]["error"][0]
    assert error["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"
    assert error["severity"] == "ERROR"
    assert AccessToken.objects.count() == 0


def test_wrong_grant_type_is_400(client, seller):
    response = token_request(client, "acme-client", "acme-secret", grant_type="password")
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == "grant_type"
    assert AccessToken.objects.count() == 0


def test_token_request_without_correlation_id_is_400(client, seller):
    response = token_request(client, "acme-client", "acme-secret", headers={"WM_QOS.CORRELATION_ID": None})
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["code"] == "MISSING_REQUEST_HEADER.GMP_GATEWAY_API"


@requires_specs
def test_token_detail(wm):
    response = wm.get("/v3/token/detail")
    assert response.status_code == 200
    assert_matches_spec("authentication", "/v3/token/detail", "get", "200", response.json())
    assert response.json()["is_valid"] is True
    assert response.json()["scopes"]["orders"] == "full_access"


def test_missing_token_is_401(anonymous_wm, seller):
    response = anonymous_wm.get("/v3/items")
    assert response.status_code == 401
    assert response.json()["errors"]["error"][0]["description"] == "WM_SEC.ACCESS_TOKEN header is missing."


def test_unknown_token_is_401(anonymous_wm, seller):
    response = anonymous_wm.get("/v3/items", **{"WM_SEC.ACCESS_TOKEN": "eyJnot-a-token"})
    assert response.status_code == 401
    assert response.json()["errors"]["error"][0]["description"] == "Access token is invalid."


def test_token_expires_after_900_seconds_of_emulator_time(client, seller):
    # given a token used once (a client that does not renew it)
    token = services.token_issue(client_id=seller.client_id, client_secret=seller.client_secret)
    wm = WalmartTestClient(client, token.token)
    assert wm.get("/v3/items").status_code == 200
    # when the emulator's clock passes 15 minutes
    services.clock_advance(seconds=901)
    response = wm.get("/v3/items")
    # then
    assert response.status_code == 401
    assert response.json()["errors"]["error"][0]["description"] == "Access token has expired."


def test_missing_service_name_header_is_400(wm):
    response = wm.get("/v3/items", **{"WM_SVC.NAME": ""})
    assert response.status_code == 400
    error = response.json()["errors"]["error"][0]
    assert error == {
        "code": "MISSING_REQUEST_HEADER.GMP_GATEWAY_API",
        "field": "WM_SVC.NAME",
        "description": "WM_SVC.NAME header is missing.",
        "info": "Required header is missing.",
        "severity": "ERROR",
        "category": "REQUEST",
        "causes": [],
        "errorIdentifiers": {},
    }


def test_every_answer_carries_rate_limit_headers(wm):
    response = wm.get("/v3/items")
    assert response["x-current-token-count"] == "299"
    assert int(response["x-next-replenish-time"]) > 0


@requires_specs
def test_error_entries_match_walmarts_error_schema(anonymous_wm, wm):
    # The specs only document 200 answers; their `errors[]` item schema is Walmart's error entry.
    error_schema = schema_at("items", "/v3/items", "get", "200", "errors", "[]")
    for response in (anonymous_wm.get("/v3/items"), wm.get("/v3/items", {"limit": "x"}), wm.get("/v3/orders")):
        for entry in response.json()["errors"]["error"]:
            assert_valid(error_schema, entry)


def test_wrong_method_is_405_and_counts_nothing(wm, seller):
    response = wm.post("/v3/items", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["errors"]["error"][0]["code"] == "METHOD_NOT_ALLOWED.GMP_GATEWAY_API"
    assert not RateLimitBucket.objects.exists()


def test_unknown_api_path_is_walmarts_404(wm):
    response = wm.get("/v3/nothing/here")
    assert response.status_code == 404
    assert response.json()["errors"]["error"][0]["code"] == "URI_NOT_FOUND.GMP_GATEWAY_API"
