"""The soak's table on stdout and its JSON file (bench/results/, git-ignored)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def report_write(report: dict[str, Any], output: Path | None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(report.get("started_at", time.time())))
    path = output or ROOT / "bench" / "results" / f"soak-{report.get('mode', 'run')}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _clock(epoch: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) if epoch else "-"


def _latency(figures: dict[str, Any] | None) -> str:
    if not figures or not figures.get("n"):
        return "no sample"
    return f"p50 {figures['p50']:.1f} s, p95 {figures['p95']:.1f} s, max {figures['max']:.1f} s (n={figures['n']})"


def _p95(figures: dict[str, Any]) -> str:
    return f"{figures['p95']:.0f} ({figures['n']})" if figures.get("n") else "-"


def _loads(values) -> str:
    return " ".join(f"{value:.2f}" for value in values) if values else "-"


def report_print(report: dict[str, Any], path: Path) -> None:
    line = "-" * 100
    print(line)
    print(f"SOAK ({report.get('mode')}) — {report.get('seconds', 0):.0f} s; work directory {report.get('workdir')}")
    machine = report.get("machine", {})
    print(
        f"machine: {machine.get('cpus')} CPUs, {machine.get('platform')}; load average "
        f"start {_loads(machine.get('load_average_start'))}, after faults "
        f"{_loads(machine.get('load_average_after_faults'))}, end {_loads(machine.get('load_average_end'))}"
    )
    print(f"database: {report.get('database', '-')}")
    print(f"redis:    {report.get('redis', '-')}")
    for key, value in (report.get("setup") or {}).items():
        if key == "inventory_probe":
            value = f"PUT /v3/inventory sets {value.get('semantics')} (probe read {value.get('shown')})"
        print(f"{key}: {value}")
    if report.get("load"):
        load = report["load"]
        print(f"load over {report.get('load_seconds', 0):.0f} s: " + ", ".join(f"{k} {v}" for k, v in load.items()))
    if report.get("rows"):
        print("rows: " + ", ".join(f"{key} {value}" for key, value in report["rows"].items()))
    if report.get("phases"):
        print(line)
        print(f"{'fault phase':28} {'from':>8} {'to':>8} {'s':>5}  what happened")
        for phase in report["phases"]:
            actions = "; ".join(action["what"] for action in phase["actions"])
            print(f"{phase['name']:28} {_clock(phase['started']):>8} {_clock(phase['ended']):>8} "
                  f"{phase['seconds']:>5.0f}  {actions[:200]}")  # fmt: skip
    if report.get("checks"):
        print(line)
        print(f"{'check':48} {'result':6}  details")
        for check in report["checks"]:
            verdict = "PASS" if check["passed"] else ("FAIL" if check["gate"] else "note")
            print(f"{check['name']:48} {verdict:6}  {check['summary']}")
    latency = report.get("latency")
    if latency:
        print(line)
        print(f"order intake (placed on Walmart -> in the product), during faults: "
              f"{_latency(latency.get('order_intake_during_faults'))}")  # fmt: skip
        print(f"order intake, whole run: {_latency(latency.get('order_intake_all'))}")
        print(f"intent -> Sent (shipments, cancellations, refunds), during faults: "
              f"{_latency(latency.get('intent_to_sent_during_faults'))}")  # fmt: skip
        print(f"intent -> Sent, whole run: {_latency(latency.get('intent_to_sent_all'))}")
        for figure, key in (("intake", "order_intake"), ("intent -> Sent", "intent_to_sent")):
            phases = latency.get(f"{key}_by_phase") or {}
            print(f"{figure} p95 s (n) by the phase it started in: "
                  + ", ".join(f"{name} {_p95(summary)}" for name, summary in phases.items()))  # fmt: skip
    if report.get("convergence"):
        seconds = report["convergence"].get("seconds")
        print(f"converged: {f'{seconds:.0f} s after the last fault' if seconds is not None else 'no'}")
    print(line)
    if report.get("error") or report.get("interrupted"):
        print(f"NOT COMPLETED: {report.get('error') or 'interrupted'}")
    else:
        print("RESULT: " + ("PASS" if report.get("passed") else "FAIL (correctness checks above; details in the JSON)"))
    print(f"JSON: {path}")
