"""Placing orders against every event store: all or nothing, and never oversold, sharded or not."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from ordering.domain import inventory
from ordering.domain.errors import CurrencyMismatch, DuplicateSku, OutOfStock, UnknownSku
from ordering.domain.fold import fold
from ordering.domain.inventory import MAX_SHARDS, shard_heads
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.shard_spans import ShardSpans
from ordering.services.stamp import Cause
from ordering.services.stock_heads import load_heads
from tests.support import backends
from tests.support.builders import new_id

pytestmark = pytest.mark.moto
CAUSE = Cause("test-correlation")


@pytest.fixture(params=backends.EVENT_STORES)
def store(request):
    with backends.event_store(request.param) as store:
        yield store


def order_of(*lines: tuple[str, int], email: str = "ada@example.com") -> PlaceOrder:
    return PlaceOrder(
        order_id=new_id(),
        user_id=new_id(),
        email=email,
        lines=tuple(RequestedLine(sku, quantity) for sku, quantity in lines),
    )


def test_placing_an_order_reserves_stock_and_prices_from_the_catalog(store):
    restock(store, "MUG-01", 10, Decimal("0.10"), "EUR", CAUSE)
    restock(store, "CAP-01", 5, Decimal("12.00"), "EUR", CAUSE)
    placed = place_order(store, order_of(("MUG-01", 3), ("CAP-01", 1)), CAUSE)
    assert placed.order_placed.total == "12.30"
    assert placed.order_placed.lines[0].line_total == "0.30"
    heads = store.read_heads(["MUG-01", "CAP-01"])
    assert (heads["MUG-01"].available, heads["MUG-01"].reserved) == (7, 3)
    assert (heads["CAP-01"].available, heads["CAP-01"].reserved) == (4, 1)
    stored = store.read(f"ORDER#{placed.order_id}")
    assert [event.type for event in stored] == ["OrderPlaced"]
    assert Decimal(stored[0].data.total) == Decimal("0.10") * 3 + Decimal("12.00")


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ((("MUG-01", 11),), OutOfStock),
        ((("MUG-01", 1), ("CAP-01", 9)), OutOfStock),
        ((("MUG-01", 1), ("NOPE-01", 1)), UnknownSku),
        ((("MUG-01", 1), ("MUG-01", 2)), DuplicateSku),
        ((("MUG-01", 1), ("USD-01", 1)), CurrencyMismatch),
    ],
)
def test_a_refused_order_writes_nothing_at_all(store, lines, error):
    restock(store, "MUG-01", 10, Decimal("1.00"), "EUR", CAUSE)
    restock(store, "CAP-01", 5, Decimal("1.00"), "EUR", CAUSE)
    restock(store, "USD-01", 5, Decimal("1.00"), "USD", CAUSE)
    before = {sku: store.version_of(f"SKU#{sku}") for sku in ("MUG-01", "CAP-01", "USD-01")}
    command = order_of(*lines)
    with pytest.raises(error):
        place_order(store, command, CAUSE)
    assert store.read(f"ORDER#{command.order_id}") == []
    assert {sku: store.version_of(f"SKU#{sku}") for sku in before} == before
    assert store.read_heads(["MUG-01"])["MUG-01"].reserved == 0


def test_out_of_stock_names_every_short_sku_and_what_is_available(store):
    restock(store, "MUG-01", 2, Decimal("1.00"), "EUR", CAUSE)
    restock(store, "CAP-01", 0, Decimal("1.00"), "EUR", CAUSE)
    with pytest.raises(OutOfStock) as raised:
        place_order(store, order_of(("MUG-01", 3), ("CAP-01", 1)), CAUSE)
    assert [(s.sku, s.requested, s.available) for s in raised.value.shortages] == [
        ("MUG-01", 3, 2),
        ("CAP-01", 1, 0),
    ]


def test_fifty_concurrent_orders_against_a_stock_of_ten(store):
    restock(store, "MUG-01", 10, Decimal("7.50"), "EUR", CAUSE)
    barrier = threading.Barrier(50)
    outcomes: list[str] = []

    def customer() -> None:
        command = order_of(("MUG-01", 1))
        barrier.wait()
        try:
            place_order(store, command, CAUSE)
            outcomes.append("placed")
        except OutOfStock:
            outcomes.append("out of stock")

    threads = [threading.Thread(target=customer) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("placed") == 10
    assert outcomes.count("out of stock") == 40
    head = store.read_heads(["MUG-01"])["MUG-01"]
    assert (head.available, head.reserved) == (0, 10)
    folded = fold(inventory.evolve, store.read("SKU#MUG-01"))
    assert (folded.available, folded.reserved, folded.version) == (0, 10, head.version)


def test_concurrent_orders_of_a_sharded_sku_spread_over_its_shards_and_sell_exactly_the_stock(store):
    restock(store, "MUG-01", 12, Decimal("7.50"), "EUR", CAUSE, shards=4)
    barrier = threading.Barrier(30)
    outcomes: list[str] = []

    def customer() -> None:
        command = order_of(("MUG-01", 1))
        barrier.wait()
        try:
            place_order(store, command, CAUSE)
            outcomes.append("placed")
        except OutOfStock:
            outcomes.append("out of stock")

    threads = [threading.Thread(target=customer) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (outcomes.count("placed"), outcomes.count("out of stock")) == (12, 18)
    heads = load_heads(store, ["MUG-01"])
    assert sorted(heads) == ["MUG-01", "MUG-01#1", "MUG-01#2", "MUG-01#3"]
    for name, head in heads.items():
        folded = fold(inventory.evolve, store.read(f"SKU#{name}"))
        assert (head.available, head.reserved) == (0, 3)
        assert (folded.available, folded.reserved, folded.version) == (0, 3, head.version)


def test_a_sku_re_shards_to_the_most_shards_and_back_in_one_transaction_each_keeping_every_unit(store):
    restock(store, "MUG-01", 1000, Decimal("7.50"), "EUR", CAUSE)
    widest = restock(store, "MUG-01", 13, Decimal("7.50"), "EUR", CAUSE, shards=MAX_SHARDS)
    assert [head.available for head in widest] == [41] * 13 + [40] * 12
    place_order(store, order_of(("MUG-01", 30)), CAUSE)  # some units now reserved in one shard
    narrow = restock(store, "MUG-01", 7, Decimal("8.00"), "EUR", CAUSE, shards=3)
    assert (narrow[0].shards, narrow[0].span) == (3, MAX_SHARDS)
    assert sum(head.available + head.reserved for head in narrow) == 1020
    assert [head.available for head in narrow[:3]] == [330, 330, 330]
    for head in shard_heads(load_heads(store, ["MUG-01"]), "MUG-01"):
        folded = fold(inventory.evolve, store.read(f"SKU#{head.head}"))
        assert folded is not None
        assert (folded.available, folded.reserved, folded.version) == (
            head.available,
            head.reserved,
            head.version,
        )


def test_orders_sharing_a_span_a_re_shard_made_stale_still_sell_exactly_the_stock(store):
    """A warm container's spans are only a hint: this one learnt 2 shards, the SKU now has 4."""
    restock(store, "MUG-01", 0, Decimal("7.50"), "EUR", CAUSE, shards=2)
    spans = ShardSpans()
    load_heads(store, ["MUG-01"], spans)
    restock(store, "MUG-01", 12, Decimal("7.50"), "EUR", CAUSE, shards=4)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def customer() -> None:
        command = order_of(("MUG-01", 1))
        barrier.wait()
        try:
            place_order(store, command, CAUSE, spans=spans)
            outcomes.append("placed")
        except OutOfStock:
            outcomes.append("out of stock")

    threads = [threading.Thread(target=customer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (outcomes.count("placed"), outcomes.count("out of stock")) == (12, 8)
    heads = load_heads(store, ["MUG-01"])
    assert sorted(heads) == ["MUG-01", "MUG-01#1", "MUG-01#2", "MUG-01#3"]
    assert [(head.available, head.reserved) for head in heads.values()] == [(0, 3)] * 4
    assert spans.heads_to_read(["MUG-01"]) == list(heads)
