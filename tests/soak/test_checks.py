"""The soak's checker (bench/soak/checks.py, requestlog.py, htmlforms.py): pure functions with exact values,
so a checker that stopped seeing a lost, doubled or stuck unit fails here. The soak run itself is not part
of the suite (`make soak`)."""

import io
import json
from collections import namedtuple

import pytest

from bench.soak import checks, requestlog
from bench.soak.htmlforms import forms_in


# --- orders and acknowledgements ---------------------------------------------------------------------------
def test_orders_compare_splits_missing_late_duplicated_and_unknown():
    # given Walmart's orders placed at t=0, 500 and 990, and the product holding A twice and an unknown X
    placed = {"A": 0.0, "B": 500.0, "C": 990.0, "D": 100.0}
    # when compared at t=1000 with a 360 s grace (the poll's interval + a minute)
    result = checks.orders_compare(walmart_placed=placed, product_orders=["A", "A", "D", "X"], now=1000.0,
                                   grace_seconds=360)  # fmt: skip
    # then B (500 s old) is missing, C (10 s old) only late, A duplicated, X unknown
    assert result.missing == ["B"]
    assert result.late == ["C"]
    assert result.duplicated == {"A": 2}
    assert result.unknown == ["X"]
    assert result.passed is False


def test_orders_compare_missing_once_the_poll_read_past_it():
    # given orders placed at t=90 and t=95, the product's poll watermark at t=92 and a long grace
    result = checks.orders_compare(walmart_placed={"A": 90.0, "B": 95.0}, product_orders=[], now=100.0,
                                   grace_seconds=600, polled_through=92.0)  # fmt: skip
    # then A (before the watermark) is missing; B may still come with the next poll
    assert (result.missing, result.late) == (["A"], ["B"])


def test_orders_compare_passes_when_late_only():
    result = checks.orders_compare(walmart_placed={"A": 0.0, "B": 95.0}, product_orders=["A"], now=100.0,
                                   grace_seconds=60)  # fmt: skip
    assert (result.missing, result.late, result.passed) == ([], ["B"], True)


def test_acks_compare_finds_never_repeated_and_not_recorded():
    result = checks.acks_compare(
        product_acknowledged={"A": True, "B": True, "C": False, "D": False, "E": True},
        applied={"A": 1, "B": 3, "C": 1},
        unknown_outcome={"A": 1},
        optional=["E"],
    )
    assert result.never == ["D"]  # E needed none (every unit cancelled before)
    assert result.repeated == {"B": 3}
    assert result.not_recorded == ["C"]
    assert result.unknown_outcome == {"A": 1}
    assert result.passed is False


def test_acks_compare_optional_order_acknowledged_twice_still_fails():
    result = checks.acks_compare(product_acknowledged={"E": True}, applied={"E": 2}, optional=["E"])
    assert result.repeated == {"E": 2}
    assert result.passed is False


def test_acks_compare_passes_exactly_once():
    result = checks.acks_compare(product_acknowledged={"A": True, "B": True}, applied={"A": 1, "B": 1})
    assert result.passed is True


# --- shipments, cancellations, refunds ----------------------------------------------------------------------
def test_quantities_compare_doubled_lost_and_unasked():
    intended = {("P1", "1", "T1"): 2, ("P1", "2", "T1"): 1, ("P2", "1", "T2"): 3}
    applied = {("P1", "1", "T1"): 2, ("P1", "2", "T1"): 2, ("P2", "1", "T2"): 1, ("P3", "1", "T9"): 1}
    result = checks.quantities_compare(intended=intended, applied=applied)
    assert result.doubled == {("P1", "2", "T1"): (1, 2), ("P3", "1", "T9"): (0, 1)}
    assert result.lost == {("P2", "1", "T2"): (3, 1)}
    assert result.matched == 1
    assert result.passed is False


def test_quantities_compare_passes_when_equal():
    result = checks.quantities_compare(intended={("R", 1): 2}, applied={("R", 1): 2})
    assert (result.doubled, result.lost, result.matched, result.passed) == ({}, {}, 1, True)


def test_status_split_counts_unknown_states_as_unfinished():
    values = {"PENDING": "pending", "IN_FLIGHT": "in_flight", "SENT": "sent", "ERROR": "error", "DISCARDED": "x"}
    nonfinal, final, failed = checks.status_split(values)
    assert nonfinal == {"pending", "in_flight"}
    assert final == {"sent", "error", "x"}
    assert failed == {"error"}


# --- listings -----------------------------------------------------------------------------------------------
def test_inventory_semantics_walmart_documented():
    node = {"inputQty": 10, "availToSellQty": 9, "reservedQty": 1}
    assert checks.inventory_semantics(sent=10, ordered=1, node=node) == checks.INPUT_QTY


def test_inventory_semantics_sellable_quantity_emulator():
    node = {"inputQty": 11, "availToSellQty": 10, "reservedQty": 1}
    assert checks.inventory_semantics(sent=10, ordered=1, node=node) == checks.AVAIL_TO_SELL_QTY


def test_inventory_semantics_neither_raises():
    with pytest.raises(ValueError, match="inputQty=9 availToSellQty=9"):
        checks.inventory_semantics(sent=10, ordered=1, node={"inputQty": 9, "availToSellQty": 9, "reservedQty": 0})


def test_listings_compare_differences_and_missing():
    result = checks.listings_compare(product={"A": 5, "B": 0, "C": None, "D": 3}, walmart={"A": 5, "B": 2, "C": 7})
    assert result.differ == {"B": (0, 2)}
    assert result.missing_on_walmart == ["D"]
    assert result.compared == 3  # C: the product sends nothing
    assert result.passed is False


# --- figures ------------------------------------------------------------------------------------------------
def test_percentile_nearest_rank():
    values = [float(n) for n in range(1, 21)]  # 1..20
    assert checks.percentile(values, 0.5) == 10.0
    assert checks.percentile(values, 0.95) == 19.0
    assert checks.percentile([7.0], 0.95) == 7.0
    assert checks.latency_summary([3.0, 1.0, 2.0]) == {"n": 3, "p50": 2.0, "p95": 3.0, "max": 3.0}
    assert checks.latency_summary([]) == {"n": 0, "p50": None, "p95": None, "max": None}


def test_converged_after_first_sample_of_the_final_passing_run():
    samples = [(100.0, False), (110.0, True), (120.0, False), (130.0, True), (140.0, True)]
    assert checks.converged_after(samples, since=90.0) == 40.0
    assert checks.converged_after([(100.0, True), (110.0, False)], since=90.0) is None
    assert checks.converged_after([(80.0, True)], since=90.0) == 0.0


def test_latency_by_phase_and_phase_at():
    phases = [("walmart_5xx", 100.0, 115.0), ("redis_restart", 117.0, 132.0)]
    assert checks.phase_at(100.0, phases) == "walmart_5xx"
    assert checks.phase_at(116.0, phases) == "between phases"
    assert checks.phase_at(132.0, phases) == "redis_restart"
    samples = [(101.0, 2.0), (110.0, 4.0), (116.0, 9.0), (120.0, 300.0)]
    assert checks.latency_by_phase(samples, phases) == {
        "walmart_5xx": {"n": 2, "p50": 2.0, "p95": 4.0, "max": 4.0},
        "redis_restart": {"n": 1, "p50": 300.0, "p95": 300.0, "max": 300.0},
        "between phases": {"n": 1, "p50": 9.0, "p95": 9.0, "max": 9.0},
    }
    assert checks.latency_by_phase([], phases) == {}


def test_celery_queue_names_from_queues_and_routes():
    Queue = namedtuple("Queue", "name")
    names = checks.celery_queue_names(
        default_queue="celery",
        task_queues=[Queue("intake"), Queue("pushes")],
        task_routes=[{"orders.tasks.*": {"queue": "intake"}, "sync.tasks.*": "sync"}, lambda *a: None],
    )
    assert names == ["celery", "intake", "pushes", "sync"]
    assert checks.celery_queue_names(default_queue=None, task_queues=None, task_routes=None) == ["celery"]
    assert checks.celery_queue_names(default_queue="d", task_queues={"reads": {}}, task_routes={}) == ["d", "reads"]


COMPOSE = """
x-worker: &worker
  healthcheck:
    test: ["CMD-SHELL", "celery --app=channel_manager inspect ping --destination=celery@$$HOSTNAME"]
  # a worker with --queues=ignored in a comment names nothing
  worker-intake:
    command: [celery, --app=channel_manager, worker, --loglevel=INFO, --queues=intake, "--concurrency=2"]
  worker-pushes:
    command: [celery, --app=channel_manager, worker, "-Q", pushes]
  worker-reads:
    command: [celery, --app=channel_manager, worker, --loglevel=INFO, "--queues=reads,celery", "--concurrency=2"]
  beat:
    command: [celery, --app=channel_manager, beat, --loglevel=INFO]
"""


def test_compose_queue_groups_reads_each_worker_services_queues():
    assert checks.compose_queue_groups(COMPOSE) == [["intake"], ["pushes"], ["reads", "celery"]]
    one_worker = "  worker:\n    command:\n      - celery\n      - worker\n      - --loglevel=INFO\n"
    assert checks.compose_queue_groups(one_worker) == []


def test_worker_queues_one_worker_per_group_and_every_queue_consumed():
    queues = ["celery", "intake", "pushes", "reads", "sync"]
    groups = [["intake"], ["pushes"], ["reads", "celery"], ["gone"]]
    # a group naming a queue the settings lack keeps the rest; sync, in no group, gets a worker of its own
    assert checks.worker_queues(queues, groups=groups, workers=2) == [
        ["intake"], ["pushes"], ["reads", "celery"], ["sync"]
    ]  # fmt: skip
    # without groups (one compose worker for everything): `workers` workers, each taking every queue
    assert checks.worker_queues(["celery"], groups=[], workers=2) == [["celery"], ["celery"]]


# --- Walmart's request log ----------------------------------------------------------------------------------
def test_classify_writes_only():
    assert requestlog.classify("POST", "/walmart-emulator/v3/orders/123/acknowledge") == ("ack", "123")
    assert requestlog.classify("POST", "/walmart-emulator/v3/orders/123/shipping") == ("ship", "123")
    assert requestlog.classify("POST", "/walmart-emulator/v3/returns/R9/refund") == ("return_refund", "R9")
    assert requestlog.classify("PUT", "/walmart-emulator/v3/inventory") == ("inventory", "")
    assert requestlog.classify("GET", "/walmart-emulator/v3/orders/123") is None
    assert requestlog.classify("POST", "/stores/1/orders/2/ship/") is None


def test_applied_and_ack_counts():
    entries = [
        {"kind": "ack", "key": "A", "status": 200},
        {"kind": "ack", "key": "A", "status": 200, "answer_lost": True, "inner_status": 200},
        {"kind": "ack", "key": "B", "status": 500},
        {"kind": "ack", "key": "B", "status": 200, "answer_lost": True, "inner_status": 400},
        {"kind": "ack", "key": "C", "status": 200, "answer_lost": True, "inner_status": None},
        {"kind": "ack", "key": "D", "status": 429},
        {"kind": "ship", "key": "A", "status": 200},
    ]
    done, unknown = requestlog.ack_counts(entries)
    assert dict(done) == {"A": 2}
    assert dict(unknown) == {"C": 1}


def test_order_line_units_and_refund_units():
    ship = {"orderShipment": {"orderLines": {"orderLine": [
        {"lineNumber": "1", "orderLineStatuses": {"orderLineStatus": [
            {"status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "2"},
             "trackingInfo": {"trackingNumber": "T1"}}]}},
        {"lineNumber": "2", "orderLineStatuses": {"orderLineStatus": [
            {"status": "Shipped", "statusQuantity": {"amount": "1"}, "trackingInfo": {"trackingNumber": "T1"}}]}},
    ]}}}  # fmt: skip
    assert requestlog.order_line_units("ship", ship) == [("1", 2, "T1"), ("2", 1, "T1")]
    statuses = {"orderLineStatus": [{"statusQuantity": {"amount": 1}}]}
    cancel = {"orderCancellation": {"orderLines": {"orderLine": [{"lineNumber": 3, "orderLineStatuses": statuses}]}}}
    assert requestlog.order_line_units("cancel", cancel) == [("3", 1, "")]
    refund = {"refundLines": [{"returnOrderLineNumber": 1, "quantity": {"measurementValue": 2}}]}
    assert requestlog.return_refund_units(refund) == [(1, 2)]
    assert requestlog.order_line_units("ship", "not json") == []


def test_request_log_middleware_records_a_lost_answer_and_its_outcome(tmp_path):
    # given an application that sets 200 and then drops the answer while sending it
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])

        def body():
            raise ConnectionResetError("dropped")
            yield b""

        return body()

    log = requestlog.RequestLog(app, directory=tmp_path, probe_installed=True)
    payload = json.dumps({"orderCancellation": {}}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/walmart-emulator/v3/orders/PO1/cancel",
        "CONTENT_LENGTH": str(len(payload)),
        "wsgi.input": io.BytesIO(payload),
        "HTTP_WM_QOS.CORRELATION_ID": "c-1",
    }
    # when the server sends the answer
    with pytest.raises(ConnectionResetError):
        list(log(environ, lambda status, headers: None))
    # then one entry says: a cancel of PO1, applied (the app's own outcome was 200), answer lost; the app
    # still read the whole body
    (entry,) = requestlog.read_entries(tmp_path)
    assert (entry["kind"], entry["key"], entry["status"], entry["answer_lost"]) == ("cancel", "PO1", 200, True)
    assert entry["correlation_id"] == "c-1"
    assert entry["body"] == {"orderCancellation": {}}
    assert requestlog.applied(entry) is True
    assert environ["wsgi.input"].read() == payload


# --- the dashboard's forms -------------------------------------------------------------------------------------
def test_forms_in_reads_what_a_browser_submits():
    html = """
    <form method="post" id="ship-form">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <select name="carrier"><option value="">Choose</option><optgroup label="W"><option value="UPS">UPS</option>
      </optgroup></select>
      <select name="method_code"><option value="Standard">Standard</option>
        <option value="Value" selected>Value</option></select>
      <input type="number" name="quantity_7" value="2">
      <input type="number" name="quantity_8" value="0" disabled>
      <input type="checkbox" name="override">
      <input type="checkbox" name="stock_1" checked>
      <textarea name="note">
hello</textarea>
      <button type="submit" name="action" value="subscribe">Go</button>
    </form>"""
    (form,) = forms_in(html)
    assert form.attrs["id"] == "ship-form"
    assert form.values() == {
        "csrfmiddlewaretoken": "tok",
        "carrier": "",
        "method_code": "Value",
        "quantity_7": "2",
        "stock_1": "on",
        "note": "hello",
    }
    assert form.buttons == [("action", "subscribe")]
    assert {"quantity_8", "override"} <= form.names
    assert form.values(carrier="UPS")["carrier"] == "UPS"
