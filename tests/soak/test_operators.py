"""The soak's order desk (bench/soak/drivers.py Operators) reading the real return page: a return with
nothing left to refund (Walmart refunded it itself) is done, not a page error retried every few seconds."""

import threading

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from bench.soak.dashboard import Dashboard, DashboardError
from bench.soak.drivers import Journal, Operators
from returns.services import return_upsert_from_walmart
from tests.returns.factories import return_json, return_line_json, shipped_order
from walmart_client.models import WalmartReturn

pytestmark = pytest.mark.django_db

BASE = "http://dashboard.test"


def operators(store) -> tuple[Operators, Journal]:
    journal = Journal()
    desk = Operators(
        dashboard=Dashboard(BASE, username="operator", password="unused"),
        store_id=store.pk,
        since=timezone.now(),
        plan={},
        plan_lock=threading.Lock(),
        tracking_prefix="T",
        interval=1.0,
        journal=journal,
        stop=threading.Event(),
        seed=1,
    )
    return desk, journal


def return_page(client, store, *, refunded: int) -> tuple[int, str]:
    """The return's detail page as the dashboard renders it for the operator."""
    shipped_order(store)
    data = return_json(lines=[return_line_json(refunded=refunded, refund_channel="AUTO" if refunded else "")])
    stored, _ = return_upsert_from_walmart(store=store, remote=WalmartReturn.from_api(data))
    path = reverse("returns:return_detail", args=[store.pk, stored.pk])
    return stored.pk, client.get(path).content.decode()


@responses.activate
def test_a_return_walmart_refunded_itself_counts_as_nothing_left(operator_client, store):
    return_id, html = return_page(operator_client, store, refunded=2)
    assert 'id="nothing-to-refund"' in html
    assert 'id="refund-form"' not in html
    responses.get(f"{BASE}/stores/{store.pk}/returns/{return_id}/", body=html)
    desk, journal = operators(store)

    assert desk._refund(("return", return_id), return_id, "all") is True
    assert dict(journal.counts) == {"refund.nothing_left": 1}
    assert [call.request.method for call in responses.calls] == ["GET"]  # nothing posted


@responses.activate
def test_a_page_with_neither_the_form_nor_the_notice_is_still_a_page_error(operator_client, store):
    return_id, html = return_page(operator_client, store, refunded=2)
    html = html.replace('id="nothing-to-refund"', 'id="something-else"')
    responses.get(f"{BASE}/stores/{store.pk}/returns/{return_id}/", body=html)
    desk, journal = operators(store)

    with pytest.raises(DashboardError, match="no form refund-form"):
        desk._refund(("return", return_id), return_id, "all")
    assert not journal.counts


@responses.activate
def test_a_return_left_to_refund_still_finds_its_form(operator_client, store):
    return_id, html = return_page(operator_client, store, refunded=0)
    path = f"/stores/{store.pk}/returns/{return_id}/"
    responses.get(BASE + path, body=html)

    form, url = operators(store)[0].dashboard.form(path, form_id="refund-form")
    assert form.attrs.get("id") == "refund-form"
    assert url == BASE + path
    assert any(name.startswith("quantity_") for name in form.names)
