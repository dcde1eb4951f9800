from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from bench.cli import main as bench
from bench.workload import generate
from ordering.adapters.memory_event_store import InMemoryEventStore

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.moto]


def test_the_workload_writes_what_it_counts_and_every_order_goes_all_the_way():
    store = InMemoryEventStore()
    written = generate(store, 400)
    events = list(store.scan(0, 1))
    assert written == len(events) >= 400
    kinds = {event.type for event in events}
    assert {"OrderPlaced", "PaymentSucceeded", "PaymentFailed", "OrderFulfilled", "OrderCancelled"} <= kinds
    assert sum(e.type == "OrderPlaced" for e in events) == sum(e.type == "ConfirmationSent" for e in events)


def test_replay_from_memory_and_from_the_table_against_their_baselines(run_bench):
    report = run_bench(
        "replay", "--events", "600", "--table-events", "300", "--segments", "2", "--workers", "0,1,2"
    )

    result = report["results"]["replay"]
    memory, table = result["memory"], result["table"]
    assert memory["rows"]["orders"] > 0
    assert memory["rows"]["users"] == 200
    assert (
        [run["workers"] for run in memory["runs"]] == [run["workers"] for run in table["runs"]] == [0, 1, 2]
    )
    for run in memory["runs"]:
        assert run["events"] == result["events"] >= 600
        assert run["ratio_to_copy"] == pytest.approx(memory["copy_s"] / run["replay_s"], rel=0.01, abs=0.001)
    threads, one, two = memory["runs"]
    assert "events_per_s_per_worker" not in threads  # no workers: the segments ran in threads
    assert two["events_per_s_per_worker"] == pytest.approx(two["events"] / two["replay_s"] / 2, abs=1)
    assert two["workers_cpu_s"] > 0  # the workers' own CPU time was counted
    assert one["speedup_vs_1_worker"] == one["efficiency"] == 1.0
    assert two["speedup_vs_1_worker"] == pytest.approx(one["replay_s"] / two["replay_s"], rel=0.01, abs=0.001)
    assert two["efficiency"] == pytest.approx(two["speedup_vs_1_worker"] / 2, abs=0.001)
    for run in table["runs"]:
        assert 300 <= run["events"] == table["events"] < result["events"]
        ratio = run["raw_scan_s"] / run["replay_s"]
        assert run["ratio_to_raw_scan"] == pytest.approx(ratio, rel=0.01, abs=0.001)
    for run in memory["runs"] + table["runs"]:
        cpu = run["cpu_s"]
        assert set(cpu) == {"this process", "workers", "postgres", "other"}
        assert all(seconds >= 0 for seconds in cpu.values())
        assert run["cpu_total_s"] == pytest.approx(sum(cpu.values()), abs=0.002)
        assert run["cores_busy"] == pytest.approx(run["machine_busy_s"] / run["replay_s"], rel=0.01, abs=0.01)
    # The workers' CPU is theirs: none in threads, and what the per-CPU-second figure is made of.
    assert threads["cpu_s"]["workers"] == 0
    assert two["workers_cpu_s"] == two["cpu_s"]["workers"]
    if "DATABASE_URL" not in os.environ:  # the embedded server, whose processes are ours to read
        # Its CPU is counted: it built, hashed and swapped every table.
        assert sum(run["cpu_s"]["postgres"] for run in memory["runs"]) > 0
    assert "2 worker processes" in report["markdown"]
    assert "cores busy (of" in report["markdown"]


def test_worker_counts_are_checked(tmp_path):
    result = CliRunner().invoke(bench, ["replay", "--workers", "1,two", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "not a comma-separated list of numbers" in result.output
