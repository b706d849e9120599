"""Every page carries a Content-Security-Policy that allows no inline script or style (the browser tests
check that the pages still work under it: tests/e2e/conftest.py fails a test on any violation)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {directive[0]: directive[1:] for directive in directives}


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_pages_send_a_policy_without_inline_script_or_style(client, url_name):
    policy = _policy(client.get(reverse(url_name)))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def test_dashboard_pages_have_no_inline_script(operator_client, store):
    html = operator_client.get(reverse("orders:order_list", args=[store.pk])).content.decode()
    assert "<script>" not in html
    assert '<script src="/static/js/operator-timezone.js"></script>' in html
