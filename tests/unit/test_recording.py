"""The decide-and-record unit on the in-memory store: load, decide, stamp, one transaction, retry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from generated import models as m
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.domain.inventory import InventoryItem
from ordering.ports.event_store import Append
from ordering.services.recording import Decision, Recorder, SkuChange, StreamChange
from ordering.services.retry import ConflictRetriesExhausted, RetryPolicy
from ordering.services.stamp import Cause, Stamp
from tests.support.builders import at, new_event, order_fulfilled, stock_added

NO_WAIT = RetryPolicy(attempts=3, sleep=lambda seconds: None)
RECORDER = Recorder(stamp=Stamp(clock=lambda: at(1)), retry=NO_WAIT)


def test_a_decision_is_stamped_and_written_with_the_heads_its_sku_events_fold_to():
    store = InMemoryEventStore()
    mug = InventoryItem("MUG-01")
    decision = Decision(
        streams=[StreamChange("ORDER#o-1", 0, [order_fulfilled("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")])],
        skus=[
            SkuChange(
                mug, [stock_added(quantity=4), m.PriceChanged(sku="MUG-01", price="2.00", currency="EUR")]
            )
        ],
    )
    written = RECORDER.write(store, decision, Cause("c-1", causation_id="e-0"))

    assert [(e.stream, e.version) for e in written.events] == [
        ("ORDER#o-1", 1),
        ("SKU#MUG-01", 1),
        ("SKU#MUG-01", 2),
    ]
    assert {e.occurred_at for e in written.events} == {at(1)}
    assert {(e.correlation_id, e.causation_id) for e in written.events} == {("c-1", "e-0")}
    head = InventoryItem("MUG-01", available=4, price=Decimal("2.00"), currency="EUR", version=2)
    assert written.items == {"MUG-01": head}
    assert store.read_heads(["MUG-01"]) == {"MUG-01": head}
    assert store.read("SKU#MUG-01") == written.events[1:]


def test_a_decision_of_no_events_writes_nothing_and_reports_the_items_as_they_were():
    store = InMemoryEventStore()
    mug = InventoryItem("MUG-01", available=3, version=1)
    written = RECORDER.write(store, Decision(skus=[SkuChange(mug, [])]), Cause("c-1"))
    assert written.events == []
    assert written.items == {"MUG-01": mug}
    assert store.read_heads(["MUG-01"]) == {}


def test_the_known_state_is_decided_on_first_and_a_lost_race_loads_and_decides_again():
    store = InMemoryEventStore()
    loads, decided_on = [], []

    def load() -> int:
        loads.append(store.version_of("SKU#MUG-01"))
        return loads[-1]

    def decide(version: int) -> Decision:
        decided_on.append(version)
        if len(decided_on) == 1:  # somebody else appends between our read and our write
            store.append("SKU#MUG-01", 0, [new_event(stock_added())])
        return Decision([StreamChange("SKU#MUG-01", version, [stock_added(quantity=2)])])

    written = RECORDER.record(store, Cause("c-1"), load, decide, known=0)

    assert decided_on == [0, 1]
    assert loads == [1]  # the known state saved the first read
    assert [e.version for e in written.events] == [2]


def test_a_command_that_loses_every_race_gives_up_after_the_policy_s_attempts():
    store = InMemoryEventStore()

    def decide(version: int) -> Decision:
        store.transact([Append("SKU#MUG-01", version, [new_event(stock_added())])])
        return Decision([StreamChange("SKU#MUG-01", version, [stock_added()])])

    with pytest.raises(ConflictRetriesExhausted) as raised:
        RECORDER.record(store, Cause("c-1"), lambda: store.version_of("SKU#MUG-01"), decide)
    assert raised.value.attempts == 3
    assert store.version_of("SKU#MUG-01") == 3
