from __future__ import annotations

import pytest

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
    report = run_bench("replay", "--events", "600", "--table-events", "300", "--segments", "2")

    result = report["results"]["replay"]
    memory, table = result["memory"], result["table"]
    assert memory["events"] == result["events"] >= 600
    assert memory["rows"]["orders"] > 0
    assert memory["rows"]["users"] == 200
    assert memory["ratio_to_copy"] == pytest.approx(memory["copy_s"] / memory["replay_s"], rel=0.01)
    assert 300 <= table["events"] < memory["events"]
    assert table["raw_scan_items"] == table["events"]  # the raw scan read the same log
    assert table["ratio_to_raw_scan"] == pytest.approx(table["raw_scan_s"] / table["replay_s"], rel=0.01)
