"""One contract for every EventStore adapter: in memory, and DynamoDB (moto)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from generated import models as m
from ordering.domain.inventory import InventoryItem
from ordering.domain.recorded import to_envelope
from ordering.ports.event_store import (
    Append,
    ConcurrencyError,
    HeadWrite,
    ItemTooLarge,
    TransactionTooLarge,
)
from tests.support import backends
from tests.support.builders import new_event, new_id, order_fulfilled, stock_added

pytestmark = pytest.mark.moto


@pytest.fixture(params=backends.EVENT_STORES)
def store(request):
    with backends.event_store(request.param) as store:
        yield store


def head(sku="MUG-01", available=10, reserved=0, version=1, price="7.50"):
    return InventoryItem(sku, available, reserved, 0, Decimal(price), "EUR", version)


def test_append_then_read_round_trips_every_field(store):
    events = [
        new_event(stock_added(quantity=5)),
        new_event(m.PriceChanged(sku="MUG-01", price="0.10", currency="EUR")),
    ]
    recorded = store.append("SKU#MUG-01", 0, events)
    read = store.read("SKU#MUG-01")
    assert [e.version for e in read] == [1, 2]
    assert [to_envelope(e) for e in read] == [to_envelope(e) for e in recorded]
    assert read[0].data == events[0].data
    assert read[1].event_id == events[1].event_id
    assert read[1].occurred_at == events[1].occurred_at
    assert read[1].correlation_id == "test-correlation"
    assert store.read("SKU#MUG-01", from_version=2) == read[1:]
    assert store.read("SKU#NOTHING") == []


def test_amounts_round_trip_exactly(store):
    store.append("SKU#MUG-01", 0, [new_event(m.PriceChanged(sku="MUG-01", price="0.10", currency="EUR"))])
    price = Decimal(store.read("SKU#MUG-01")[0].data.price)
    assert price * 3 == Decimal("0.30")
    assert str(price * 3) == "0.30"


def test_second_append_at_the_same_version_is_a_concurrency_error_and_changes_nothing(store):
    order_id = new_id()
    stream = f"ORDER#{order_id}"
    first = store.append(stream, 0, [new_event(order_fulfilled(order_id))])
    with pytest.raises(ConcurrencyError) as raised:
        store.append(stream, 0, [new_event(order_fulfilled(order_id))])
    assert raised.value.stream == stream
    assert raised.value.expected == 0
    assert raised.value.found == 1
    assert store.read(stream) == first


def test_an_append_behind_or_ahead_of_the_stream_is_refused(store):
    stream = "SKU#MUG-01"
    store.append(stream, 0, [new_event(stock_added()), new_event(stock_added())])
    for expected in (1, 3):
        with pytest.raises(ConcurrencyError):
            store.append(stream, expected, [new_event(stock_added())])
    assert store.version_of(stream) == 2


def test_a_transaction_with_one_failing_condition_writes_nothing(store):
    order_id = new_id()
    order = f"ORDER#{order_id}"
    store.append("SKU#MUG-01", 0, [new_event(stock_added())])
    store.transact([], [HeadWrite(head(version=1), expected_version=0)])
    with pytest.raises(ConcurrencyError) as raised:
        store.transact(
            [
                Append(order, 0, [new_event(order_fulfilled(order_id))]),
                Append("SKU#MUG-01", 1, [new_event(stock_added())]),
            ],
            # The head says version 1; claiming it is still absent must fail the whole transaction.
            [HeadWrite(head(available=20, version=2), expected_version=0)],
        )
    assert raised.value.stream == "SKU#MUG-01"
    assert store.read(order) == []
    assert store.version_of("SKU#MUG-01") == 1
    assert store.read_heads(["MUG-01"])["MUG-01"].available == 10


def test_a_cancelled_transaction_names_the_stream_that_moved_among_checks_and_heads(store):
    """Settling an order: its stream (checked, it has no head) and two SKUs; only CAP-01 moved."""
    order_id = new_id()
    order = f"ORDER#{order_id}"
    store.append(order, 0, [new_event(order_fulfilled(order_id))])
    for sku in ("MUG-01", "CAP-01"):
        store.transact([Append(f"SKU#{sku}", 0, [new_event(stock_added(sku))])], [HeadWrite(head(sku), 0)])
    store.transact(
        [Append("SKU#CAP-01", 1, [new_event(stock_added("CAP-01"))])],
        [HeadWrite(head("CAP-01", version=2), 1)],
    )
    with pytest.raises(ConcurrencyError) as raised:
        store.transact(
            [
                Append(order, 1, [new_event(order_fulfilled(order_id))]),
                Append("SKU#MUG-01", 1, [new_event(stock_added("MUG-01"))]),
                Append("SKU#CAP-01", 1, [new_event(stock_added("CAP-01"))]),
            ],
            [HeadWrite(head("MUG-01", version=2), 1), HeadWrite(head("CAP-01", version=2), 1)],
        )
    assert (raised.value.stream, raised.value.expected, raised.value.found) == ("SKU#CAP-01", 1, 2)
    assert store.version_of(order) == 1
    assert store.version_of("SKU#MUG-01") == 1


def test_a_head_condition_on_available_stock_is_enforced(store):
    store.transact(
        [Append("SKU#MUG-01", 0, [new_event(stock_added(quantity=1))])], [HeadWrite(head(available=1), 0)]
    )
    with pytest.raises(ConcurrencyError):
        store.transact(
            [Append("SKU#MUG-01", 1, [new_event(stock_added())])],
            [HeadWrite(head(available=0, version=2), expected_version=1, require_available=2)],
        )
    assert store.version_of("SKU#MUG-01") == 1


def test_heads_are_written_with_their_streams_and_read_back(store):
    store.transact(
        [
            Append("SKU#MUG-01", 0, [new_event(stock_added())]),
            Append("SKU#CAP-01", 0, [new_event(stock_added("CAP-01"))]),
        ],
        [HeadWrite(head(), 0), HeadWrite(head("CAP-01", price="12.00"), 0)],
    )
    heads = store.read_heads(["MUG-01", "CAP-01", "NONE-01"])
    assert set(heads) == {"MUG-01", "CAP-01"}
    assert heads["CAP-01"].price == Decimal("12.00")
    assert heads["MUG-01"] == head()


def test_more_than_100_items_are_refused_before_any_call(store):
    events = [new_event(stock_added()) for _ in range(101)]
    with pytest.raises(TransactionTooLarge) as raised:
        store.append("SKU#MUG-01", 0, events)
    assert raised.value.items == 101
    assert store.read("SKU#MUG-01") == []


def big_order() -> m.OrderPlaced:
    """The largest event our schemas allow is an order of 49 lines: about 5 KB."""
    lines = [
        m.PricedLine(sku=f"SKU-{i:04d}", quantity=1, unit_price="1.00", line_total="1.00") for i in range(49)
    ]
    return m.OrderPlaced(
        order_id=new_id(),
        user_id=new_id(),
        email="ada@example.com",
        lines=lines,
        total="49.00",
        currency="EUR",
    )


def test_more_than_4_mb_is_refused_before_any_call(store, monkeypatch):
    # No event our schemas allow comes near DynamoDB's limits (100 of the largest are ~ 0.5 MB),
    # so the limit is lowered to what 20 large orders weigh, to show that it is enforced.
    from ordering.adapters import table_items

    monkeypatch.setattr(table_items, "MAX_TRANSACTION_BYTES", 50_000)
    stream = f"ORDER#{new_id()}"
    with pytest.raises(TransactionTooLarge) as raised:
        store.append(stream, 0, [new_event(big_order()) for _ in range(20)])
    assert raised.value.size > 50_000
    assert store.read(stream) == []


def test_an_item_over_400_kb_is_refused_clearly(store, monkeypatch):
    from ordering.adapters import table_items

    monkeypatch.setattr(table_items, "MAX_ITEM_BYTES", 2_000)
    placed = big_order()
    stream = f"ORDER#{placed.order_id}"
    with pytest.raises(ItemTooLarge) as raised:
        store.append(stream, 0, [new_event(placed)])
    assert raised.value.stream == stream
    assert raised.value.size > 2_000
    assert f"{stream} v1 would be" in str(raised.value)
    assert store.read(stream) == []


@pytest.mark.parametrize("total_segments", [1, 3, 8])
def test_scan_over_n_segments_returns_every_event_exactly_once(store, total_segments):
    appended = []
    for i in range(12):
        sku = f"SKU-{i:03d}"
        appended += store.append(f"SKU#{sku}", 0, [new_event(stock_added(sku)), new_event(stock_added(sku))])
    store.transact([], [HeadWrite(head(), 0)])  # heads are not events
    scanned = [event for segment in range(total_segments) for event in store.scan(segment, total_segments)]
    assert sorted(e.event_id for e in scanned) == sorted(e.event_id for e in appended)


def test_twenty_threads_appending_at_the_same_version_exactly_one_wins(store):
    stream = "SKU#MUG-01"
    store.append(stream, 0, [new_event(stock_added())])
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def contender() -> None:
        event = new_event(stock_added())
        barrier.wait()
        try:
            store.append(stream, 1, [event])
            outcomes.append("won")
        except ConcurrencyError:
            outcomes.append("lost")

    threads = [threading.Thread(target=contender) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 19 + ["won"]
    assert store.version_of(stream) == 2


def test_an_event_is_stored_with_the_schema_version_of_its_type(store, monkeypatch):
    """When a type moves to v2, new events say v2, and read back as v2."""
    from ordering.domain import events

    monkeypatch.setitem(events.SCHEMA_VERSIONS, "StockAdded", 2)
    store.append("SKU#MUG-01", 0, [new_event(stock_added())])
    (read,) = store.read("SKU#MUG-01")
    assert read.schema_version == 2
    assert to_envelope(read)["schema_version"] == 2


def test_shard_heads_are_their_own_items_named_by_shard_and_read_back_with_it(store):
    shard = InventoryItem("MUG-01", available=4, version=1, shard=3)
    catalog = InventoryItem("MUG-01", 6, 0, 0, Decimal("7.50"), "EUR", 2, shards=4, span=4)
    store.transact(
        [
            Append(
                "SKU#MUG-01",
                0,
                [new_event(stock_added(quantity=6)), new_event(m.StockSharded(sku="MUG-01", shards=4))],
            ),
            Append("SKU#MUG-01#3", 0, [new_event(stock_added(quantity=4))]),
        ],
        [HeadWrite(catalog, 0), HeadWrite(shard, 0)],
    )
    heads = store.read_heads(["MUG-01", "MUG-01#3", "MUG-01#1"])
    assert heads == {"MUG-01": catalog, "MUG-01#3": shard}
    assert [e.stream for e in store.read("SKU#MUG-01#3")] == ["SKU#MUG-01#3"]


def test_a_shard_head_guards_only_its_own_shard(store):
    store.transact(
        [
            Append("SKU#MUG-01", 0, [new_event(stock_added())]),
            Append("SKU#MUG-01#1", 0, [new_event(stock_added())]),
        ],
        [HeadWrite(head(), 0), HeadWrite(InventoryItem("MUG-01", 10, version=1, shard=1), 0)],
    )
    # a write of shard 1 decided on its version 1 passes even though shard 0 moved meanwhile
    store.transact([Append("SKU#MUG-01", 1, [new_event(stock_added())])], [HeadWrite(head(version=2), 1)])
    store.transact(
        [Append("SKU#MUG-01#1", 1, [new_event(stock_added())])],
        [HeadWrite(InventoryItem("MUG-01", 9, 1, version=2, shard=1), 1, require_available=1)],
    )
    with pytest.raises(ConcurrencyError) as raised:  # and a stale one of shard 1 is refused
        store.transact(
            [Append("SKU#MUG-01#1", 1, [new_event(stock_added())])],
            [HeadWrite(InventoryItem("MUG-01", 9, 1, version=2, shard=1), 1)],
        )
    assert raised.value.stream == "SKU#MUG-01#1"
    assert store.read_heads(["MUG-01#1"])["MUG-01#1"].version == 2


def test_streams_beyond_names_the_streams_with_an_event_after_the_given_version(store):
    """Reconciliation's question, for more streams than one batched call takes (100)."""
    streams = [f"ORDER#{new_id()}" for _ in range(130)]
    for stream in streams:
        store.append(
            stream, 0, [new_event(order_fulfilled(stream[6:])), new_event(order_fulfilled(stream[6:]))]
        )
    held = {stream: (1 if position % 3 == 0 else 2) for position, stream in enumerate(streams)}
    held["ORDER#nothing-here"] = 0

    assert store.streams_beyond(held) == {s for s, version in held.items() if version == 1}
    assert store.streams_beyond({}) == set()
