"""The catalog's signals (`listings.signals`): listings announces quantity and field changes inside its
transaction; the inventory app logs the stock movements and the sync engine nudges its planners once per
transaction, after commit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from inventory.models import StockMovement
from inventory.services import stock_move
from listings.models import ImportJob, Product
from listings.services import catalog_import_run, import_job_create, product_create, product_update
from listings.signals import QuantityChange, product_quantities_set, products_changed
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """Every send of the two catalog signals, as (signal name, arguments)."""
    received: list[tuple[str, dict]] = []

    def on_changed(sender, **kwargs):
        received.append(("products_changed", {k: v for k, v in kwargs.items() if k != "signal"}))

    def on_quantities(sender, **kwargs):
        received.append(("product_quantities_set", {k: v for k, v in kwargs.items() if k != "signal"}))

    products_changed.connect(on_changed, dispatch_uid="test_on_changed")
    product_quantities_set.connect(on_quantities, dispatch_uid="test_on_quantities")
    yield received
    products_changed.disconnect(dispatch_uid="test_on_changed")
    product_quantities_set.disconnect(dispatch_uid="test_on_quantities")


def quantities_sent(*changes, actor, reason="catalog_edit", reference=""):
    return ("product_quantities_set", {"changes": changes, "reason": reason, "actor": actor, "reference": reference})


@pytest.fixture
def nudges(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr("sync.services.sync_nudge", lambda **kwargs: calls.append(kwargs))
    return calls


def test_product_create_announces_its_quantity_and_fields_and_the_movement_is_logged(sent):
    # when
    product = product_create(actor="alice", sku="NEW-1", name="New", price="4.50", quantity="7")
    # then
    assert sent == [
        quantities_sent(QuantityChange(product.pk, 0, 7), actor="alice"),
        ("products_changed", {"product_ids": frozenset({product.pk}), "fields": frozenset({"quantity"})}),
        (
            "products_changed",
            {"product_ids": frozenset({product.pk}), "fields": frozenset({"sku", "name", "price", "quantity"})},
        ),
    ]
    assert list(StockMovement.objects.values_list("product_id", "delta", "quantity_after", "reason", "actor")) == [
        (product.pk, 7, 7, "catalog_edit", "alice")
    ]


def test_product_update_announces_only_what_changed(sent):
    # given
    product = Product.objects.get(pk=ProductFactory(quantity=10, price="5.00").pk)
    # when: the price is the same, the quantity changes
    product_update(product=product, actor="bob", price="5.00", quantity="3")
    # then
    assert sent == [
        quantities_sent(QuantityChange(product.pk, 10, 3), actor="bob"),
        ("products_changed", {"product_ids": frozenset({product.pk}), "fields": frozenset({"quantity"})}),
    ]
    assert Product.objects.get(pk=product.pk).quantity == 3
    assert list(StockMovement.objects.values_list("delta", "quantity_after", "actor")) == [(-7, 3, "bob")]


def test_product_update_with_the_same_values_announces_nothing(sent):
    product = Product.objects.get(pk=ProductFactory(quantity=10, price="5.00").pk)
    product_update(product=product, actor="bob", price="5.00", quantity="10")
    assert sent == []
    assert not StockMovement.objects.exists()


def test_an_unknown_reason_rolls_the_quantity_back(sent):
    # given
    product = ProductFactory(quantity=10)
    # when: the inventory app refuses the movement inside the catalog's transaction
    with pytest.raises(ValueError, match="Unknown stock movement reason"):
        product_update(product=product, actor="bob", reason="bogus", quantity="2")
    # then nothing was written
    assert Product.objects.get(pk=product.pk).quantity == 10
    assert not StockMovement.objects.exists()


def test_an_import_batch_announces_its_quantities_in_one_send(sent, settings, tmp_path):
    # given: two existing products and a file that changes one quantity, leaves one alone and adds one
    settings.MEDIA_ROOT = str(tmp_path)
    kept = ProductFactory(sku="KEEP", quantity=4)
    moved = ProductFactory(sku="MOVE", quantity=4)
    csv = "sku,name,price,quantity\nKEEP,Keep,10.00,4\nMOVE,Move,10.00,9\nADD,Add,3.00,2\n"
    job = import_job_create(uploaded_file=SimpleUploadedFile("c.csv", csv.encode()), actor=None, run=False)
    # when
    catalog_import_run(job=job)
    # then: one product_quantities_set for the batch (the new product counted from 0)
    added = Product.objects.get(sku="ADD")
    quantity_sends = [args for name, args in sent if name == "product_quantities_set"]
    assert len(quantity_sends) == 1
    assert sorted(quantity_sends[0]["changes"], key=lambda c: c.product_id) == sorted(
        [QuantityChange(moved.pk, 4, 9), QuantityChange(added.pk, 0, 2)], key=lambda c: c.product_id
    )
    assert (quantity_sends[0]["reason"], quantity_sends[0]["reference"]) == ("import", f"import {job.pk}")
    assert set(StockMovement.objects.values_list("product_id", "delta", "reason")) == {
        (moved.pk, 5, "import"),
        (added.pk, 2, "import"),
    }
    assert not StockMovement.objects.filter(product=kept).exists()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE


def test_many_stock_moves_in_one_transaction_nudge_once_per_stream_after_commit(
    nudges, django_capture_on_commit_callbacks
):
    # given
    products = ProductFactory.create_batch(5, quantity=10)
    # when: five moves in one transaction
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for product in products:
                stock_move(product=product, delta=-1, reason="order_reservation", actor="webhook")
            # then: nothing before the commit
            assert nudges == []
    # then: one nudge, of the inventory stream, for all five products
    assert nudges == [{"product_ids": {p.pk for p in products}, "streams": ["inventory"]}]


def test_a_price_change_nudges_the_price_stream_only(nudges, django_capture_on_commit_callbacks):
    product = Product.objects.get(pk=ProductFactory(price="5.00").pk)
    with django_capture_on_commit_callbacks(execute=True):
        product_update(product=product, actor="bob", price="6.00")
    assert nudges == [{"product_ids": {product.pk}, "streams": ["price"]}]


def test_a_name_change_nudges_nothing(nudges, django_capture_on_commit_callbacks):
    product = ProductFactory(name="Old")
    with django_capture_on_commit_callbacks(execute=True):
        product_update(product=product, actor="bob", name="New name")
    assert nudges == []


def move_rolled_back(product):
    """Take a unit of `product` in a transaction (or savepoint) that then rolls back."""
    try:
        with transaction.atomic():
            stock_move(product=product, delta=-1, reason="manual", actor="alice")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass


def test_changes_inside_a_rolled_back_savepoint_do_not_lose_the_others(nudges, django_capture_on_commit_callbacks):
    # given
    kept, dropped = ProductFactory(quantity=10), ProductFactory(quantity=10)
    # when: the first move commits with the transaction, the second is rolled back with its savepoint
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            stock_move(product=kept, delta=-1, reason="manual", actor="alice")
            move_rolled_back(dropped)
    # then the committed change is nudged (the rolled-back one may ride along: nudges are idempotent)
    assert len(nudges) == 1
    assert kept.pk in nudges[0]["product_ids"]
    assert Product.objects.get(pk=dropped.pk).quantity == 10


def test_a_rolled_back_transaction_nudges_nothing_later(nudges, django_capture_on_commit_callbacks):
    # given: a change whose transaction rolls back
    first, second = ProductFactory(quantity=10), ProductFactory(quantity=10)
    move_rolled_back(first)
    # when: a later transaction commits another change
    with django_capture_on_commit_callbacks(execute=True):
        stock_move(product=second, delta=-1, reason="manual", actor="alice")
    # then only the committed product is nudged
    assert nudges == [{"product_ids": {second.pk}, "streams": ["inventory"]}]
