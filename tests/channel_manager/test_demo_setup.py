"""`demo_setup` (run by `make run` on every start): a demo login shown once, a demo store on the emulator."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from channel_manager.models import Store, StoreMembership

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("demo_setup", "--url", "http://127.0.0.1:8123/", stdout=out)
    return out.getvalue()


def test_first_run_creates_the_login_and_prints_its_password_once():
    # when
    first = _run()
    second = _run()
    # then
    password = re.search(r"log in as demo / (\S+)\n", first)[1]
    user = get_user_model().objects.get(username="demo")
    assert user.check_password(password)
    assert user.is_superuser
    assert "Open http://127.0.0.1:8123/" in first
    assert password not in second
    assert "log in as demo (password shown on the first run)" in second
    assert get_user_model().objects.filter(username="demo").count() == 1


def test_with_the_emulator_a_demo_store_is_connected_to_a_demo_seller(settings):
    from walmart_emulator.models import Seller

    settings.WALMART_EMULATOR_ENABLED = True
    # when: twice, as on two starts
    _run()
    _run()
    # then
    store = Store.objects.get(name="Demo Walmart store")
    seller = Seller.objects.get(name="Demo seller")
    assert store.environment == Store.Environment.EMULATOR
    assert (store.client_id, store.client_secret) == (seller.client_id, seller.client_secret)
    assert list(StoreMembership.objects.filter(store=store).values_list("user__username", flat=True)) == ["demo"]
    assert Store.objects.count() == 1
    assert Seller.objects.filter(name="Demo seller").count() == 1


def test_without_the_emulator_no_demo_store(settings):
    settings.WALMART_EMULATOR_ENABLED = False
    _run()
    assert Store.objects.count() == 0
