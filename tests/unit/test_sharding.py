"""Sharded stock heads: re-sharding moves units, placement spreads and falls back, settlement
goes back to the shard that reserved (pure domain, and the services on the in-memory store)."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from generated import models as m
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.domain import inventory, placement, settlement
from ordering.domain.errors import OutOfStock
from ordering.domain.fold import fold
from ordering.domain.inventory import MAX_SHARDS, InventoryItem, Restock, shard_heads
from ordering.domain.order import Reservation
from ordering.domain.placement import (
    MAX_RESERVATIONS,
    PlaceOrder,
    RequestedLine,
    TooManyReservations,
    chosen_shard,
)
from ordering.domain.streams import head_id, sku_stream, split_head
from ordering.ports.event_store import MAX_TRANSACTION_ITEMS, ConcurrencyError
from ordering.services.loading import load_order
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.recording import Recorder
from ordering.services.restock import restock
from ordering.services.retry import RetryPolicy
from ordering.services.settlement import settle_order
from ordering.services.shard_spans import ShardSpans
from ordering.services.stamp import Cause
from ordering.services.stock_heads import load_heads
from tests.support.builders import new_id, order_for_shard

CAUSE = Cause("sharding")
PRICE = Decimal("7.50")


def heads_after(store: InMemoryEventStore, sku: str) -> list[InventoryItem]:
    return shard_heads(load_heads(store, [sku]), sku)


def command(order_id: str, sku: str, quantity: int) -> PlaceOrder:
    return PlaceOrder(order_id, new_id(), "ada@example.com", (RequestedLine(sku, quantity),))


def test_head_names_round_trip_and_shard_zero_is_the_sku_itself():
    assert head_id("MUG-01") == "MUG-01"
    assert sku_stream("MUG-01") == "SKU#MUG-01"
    assert head_id("MUG-01", 3) == "MUG-01#3"
    assert sku_stream("MUG-01", 3) == "SKU#MUG-01#3"
    assert split_head("MUG-01#3") == ("MUG-01", 3)
    assert split_head("MUG-01") == ("MUG-01", 0)


def test_an_unsharded_restock_decides_what_it_always_did():
    events = inventory.restock([InventoryItem("MUG-01")], Restock("MUG-01", 10, PRICE, "EUR"))
    assert events == {
        0: [
            m.StockAdded(sku="MUG-01", quantity=10),
            m.PriceChanged(sku="MUG-01", price="7.50", currency="EUR"),
        ]
    }


def test_resharding_spreads_the_available_units_evenly_with_moves_and_keeps_every_unit():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 10, PRICE, "EUR", CAUSE)
    heads = restock(store, "MUG-01", 0, PRICE, "EUR", CAUSE, shards=4)
    assert [h.available for h in heads] == [3, 3, 2, 2]
    assert (heads[0].shards, heads[0].span) == (4, 4)
    moves = [e.data for e in store.read(sku_stream("MUG-01")) if isinstance(e.data, m.StockMoved)]
    assert [(mv.from_shard, mv.to_shard, mv.quantity) for mv in moves] == [(0, 1, 3), (0, 2, 2), (0, 3, 2)]
    for shard in (1, 2, 3):  # each move is on both shards' streams, and each head is its stream's fold
        folded = fold(inventory.evolve, store.read(sku_stream("MUG-01", shard)))
        assert folded == heads[shard]


@given(
    available=st.lists(st.integers(0, 40), min_size=MAX_SHARDS, max_size=MAX_SHARDS),
    active=st.integers(1, MAX_SHARDS),
    span=st.integers(1, MAX_SHARDS),
    shards=st.integers(1, MAX_SHARDS),
    quantity=st.integers(0, 1000),
    price=st.sampled_from([PRICE, Decimal("8.00")]),
)
def test_any_re_shard_up_to_the_most_shards_fits_in_one_transaction(
    available: list[int], active: int, span: int, shards: int, quantity: int, price: Decimal
) -> None:
    """What a re-shard writes, as the recorder counts it: its events, and a head per shard
    with events. Any starting spread, from and to any shard count up to MAX_SHARDS."""
    span = max(span, active)
    heads = [InventoryItem("MUG-01", available=units, shard=n) for n, units in enumerate(available[:span])]
    heads[0] = InventoryItem("MUG-01", available[0], price=PRICE, currency="EUR", shards=active, span=span)
    events = inventory.restock(heads, Restock("MUG-01", quantity, price, "EUR", shards))
    assert sum(len(changes) for changes in events.values()) + len(events) <= MAX_TRANSACTION_ITEMS


def test_a_sku_takes_up_to_the_most_shards_and_no_more_in_the_domain_and_in_the_schemas():
    store = InMemoryEventStore()  # it refuses a transaction of more than 100 items, as DynamoDB does
    restock(store, "MUG-01", 1000, PRICE, "EUR", CAUSE, shards=MAX_SHARDS)
    heads = restock(store, "MUG-01", 7, Decimal("8.00"), "EUR", CAUSE, shards=MAX_SHARDS - 1)
    assert (heads[0].shards, heads[0].span, sum(head.available for head in heads)) == (24, 25, 1007)
    with pytest.raises(ValueError, match="1 to 25 shards"):
        restock(store, "MUG-01", 0, PRICE, "EUR", CAUSE, shards=MAX_SHARDS + 1)
    m.Restock(sku="MUG-01", quantity=1, price="7.50", currency="EUR", shards=MAX_SHARDS)
    m.StockMoved(sku="MUG-01", from_shard=MAX_SHARDS - 1, to_shard=0, quantity=1)
    with pytest.raises(ValidationError):
        m.Restock(sku="MUG-01", quantity=1, price="7.50", currency="EUR", shards=MAX_SHARDS + 1)
    with pytest.raises(ValidationError):
        m.StockMoved(sku="MUG-01", from_shard=MAX_SHARDS, to_shard=0, quantity=1)


def test_restocking_a_sharded_sku_puts_the_new_units_where_they_are_missing():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 8, PRICE, "EUR", CAUSE, shards=4)
    place_order(store, command(order_for_shard(2, 4), "MUG-01", 2), CAUSE)
    heads = restock(store, "MUG-01", 6, PRICE, "EUR", CAUSE)
    assert [h.available for h in heads] == [3, 3, 3, 3]
    assert sum(h.available + h.reserved + h.committed for h in heads) == 14


def test_shrinking_leaves_reserved_units_where_they_are_and_a_release_still_finds_its_shard():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 8, PRICE, "EUR", CAUSE, shards=4)
    order_id = order_for_shard(3, 4)
    place_order(store, command(order_id, "MUG-01", 2), CAUSE)
    heads = restock(store, "MUG-01", 0, PRICE, "EUR", CAUSE, shards=2)
    assert [(h.available, h.reserved) for h in heads] == [(3, 0), (3, 0), (0, 0), (0, 2)]
    assert (heads[0].shards, heads[0].span) == (2, 4)
    cancel(store, order_id)
    heads = heads_after(store, "MUG-01")
    assert [(h.available, h.reserved) for h in heads] == [(3, 0), (3, 0), (0, 0), (2, 0)]
    # the units released into a retired shard are still sold (fallback) and re-spread by a restock
    assert [h.available for h in restock(store, "MUG-01", 0, PRICE, "EUR", CAUSE)] == [4, 4, 0, 0]


def cancel(store: InMemoryEventStore, order_id: str) -> None:
    """The payment is declined and the order settled: its stock is released."""
    record_payment(store, FakePaymentGateway(decline_above=Decimal("0.00")), order_id, CAUSE)
    settle_order(store, order_id, False, CAUSE)


def test_placement_reserves_from_the_chosen_shard_and_records_it_on_the_order():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 16, PRICE, "EUR", CAUSE, shards=8)
    order_id = order_for_shard(5, 8)
    placed = place_order(store, command(order_id, "MUG-01", 2), CAUSE)
    assert placed.order_placed.reserved_from == [m.ReservedFromItem(sku="MUG-01", shard=5, quantity=2)]
    heads = heads_after(store, "MUG-01")
    assert [h.reserved for h in heads] == [0, 0, 0, 0, 0, 2, 0, 0]
    assert [h.version for h in heads if h.shard != 5] == [3, 1, 1, 1, 1, 1, 1]  # untouched by the order
    order = load_order(store, order_id)
    assert order is not None
    assert order.reservations == (Reservation("MUG-01", 5, 2),)


def test_an_unsharded_order_records_no_shards_at_all():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 5, PRICE, "EUR", CAUSE)
    placed = place_order(store, command(new_id(), "MUG-01", 2), CAUSE)
    assert "reserved_from" not in placed.order_placed.model_dump(exclude_unset=True)


def test_a_short_chosen_shard_falls_back_to_the_next_one_with_the_whole_quantity():
    heads = [InventoryItem("MUG-01", available=1, shards=4, span=4, price=PRICE, currency="EUR")] + [
        InventoryItem("MUG-01", shard=shard, available=units) for shard, units in ((1, 0), (2, 1), (3, 3))
    ]
    order_id = order_for_shard(1, 4)
    assert placement.allocate(heads, order_id, 2) == {3: 2}
    assert placement.allocate(heads, order_id, 5) == {2: 1, 3: 3, 0: 1}  # split, from the chosen one on
    assert placement.allocate(heads, order_id, 6) is None


def test_an_order_starts_from_the_shard_given_if_it_is_active_and_a_retry_moves_on_from_it():
    order_id = order_for_shard(2, 8)
    assert chosen_shard(order_id, 8, start=5) == 5
    assert chosen_shard(order_id, 8, start=8) == 2  # retired since: the order's own hash
    assert chosen_shard(order_id, 8, attempt=1, start=5) not in (5, chosen_shard(order_id, 8, attempt=1))


def test_a_container_keeps_to_the_shard_it_reserved_from_and_moves_on_when_that_one_is_short():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 16, PRICE, "EUR", CAUSE, shards=8)  # 2 a shard
    container = ShardSpans()

    def reserved_from(order_id: str, quantity: int = 1) -> list[tuple[int, int]]:
        placed = place_order(store, command(order_id, "MUG-01", quantity), CAUSE, spans=container)
        return [(r.shard, r.quantity) for r in placed.order_placed.reserved_from or []]

    assert reserved_from(order_for_shard(2, 8)) == [(2, 1)]
    assert reserved_from(order_for_shard(6, 8)) == [(2, 1)]  # where the last one reserved
    assert reserved_from(order_for_shard(6, 8)) == [(3, 1)]  # 2 is empty: the next shard after it
    assert reserved_from(order_for_shard(0, 8)) == [(3, 1)]
    assert reserved_from(order_for_shard(5, 8), 2) == [(4, 2)]  # 3 is empty too


def test_a_placement_needs_the_catalog_head_and_the_chosen_shard_and_the_rest_only_when_it_is_short():
    catalog_head = InventoryItem("MUG-01", available=9, shards=4, span=5, price=PRICE, currency="EUR")
    order_id = order_for_shard(2, 4)
    while chosen_shard(order_id, 4, attempt=1) == 0:  # the retry's shard is not the catalog head's
        order_id = order_for_shard(2, 4)
    three = command(order_id, "MUG-01", 3)
    assert placement.heads_to_decide({}, three) == []  # an unknown SKU: decide says so
    assert placement.heads_to_decide({"MUG-01": catalog_head}, three) == ["MUG-01#2"]
    retried_on = chosen_shard(order_id, 4, attempt=1)
    assert placement.heads_to_decide({"MUG-01": catalog_head}, three, attempt=1) == [
        head_id("MUG-01", retried_on)
    ]
    enough = {"MUG-01": catalog_head, "MUG-01#2": InventoryItem("MUG-01", shard=2, available=3)}
    assert placement.heads_to_decide(enough, three) == []
    short = enough | {"MUG-01#2": InventoryItem("MUG-01", shard=2, available=2)}
    assert placement.heads_to_decide(short, three) == ["MUG-01#1", "MUG-01#3", "MUG-01#4"]  # 4: retired
    with pytest.raises(ValueError, match=r"MUG-01#1.*MUG-01#3.*MUG-01#4"):  # never on a guess
        placement.decide(short, three)


def test_out_of_stock_only_when_the_whole_sku_is_short_even_if_the_last_unit_is_elsewhere():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 4, PRICE, "EUR", CAUSE, shards=4)  # one unit per shard
    for shard in (0, 1, 2):  # empty three shards with orders chosen for them
        place_order(store, command(order_for_shard(shard, 4), "MUG-01", 1), CAUSE)
    last = order_for_shard(0, 4)  # chooses an empty shard; the last unit sits in shard 3
    placed = place_order(store, command(last, "MUG-01", 1), CAUSE)
    assert placed.order_placed.reserved_from == [m.ReservedFromItem(sku="MUG-01", shard=3, quantity=1)]
    with pytest.raises(OutOfStock) as refused:
        place_order(store, command(order_for_shard(3, 4), "MUG-01", 1), CAUSE)
    assert refused.value.shortages[0].available == 0


def test_a_line_larger_than_any_shard_is_split_over_shards_and_settled_on_each():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 6, PRICE, "EUR", CAUSE, shards=3)  # 2 per shard
    order_id = order_for_shard(1, 3)
    placed = place_order(store, command(order_id, "MUG-01", 5), CAUSE)
    assert [(r.shard, r.quantity) for r in placed.order_placed.reserved_from or []] == [
        (1, 2),
        (2, 2),
        (0, 1),
    ]
    cancel(store, order_id)
    assert [(h.available, h.reserved) for h in heads_after(store, "MUG-01")] == [(2, 0), (2, 0), (2, 0)]


def test_an_order_reserving_from_more_shards_than_one_transaction_holds_is_refused_and_writes_nothing():
    """Stock scattered one unit a shard: 25 + 24 reservations fit (with OrderPlaced and a head
    each, 99 items), 25 + 25 do not, and are refused before any write, not failed by the store."""
    store = InMemoryEventStore()
    for sku in ("MUG-01", "CAP-01"):
        restock(store, sku, MAX_SHARDS, PRICE, "EUR", CAUSE, shards=MAX_SHARDS)
    lines = (RequestedLine("MUG-01", MAX_SHARDS), RequestedLine("CAP-01", MAX_SHARDS))
    too_many = PlaceOrder(new_id(), new_id(), "ada@example.com", lines)
    before = list(store.scan(0, 1))
    with pytest.raises(TooManyReservations, match="from 50 stock shards, more than the 49"):
        place_order(store, too_many, CAUSE)
    assert list(store.scan(0, 1)) == before
    fitting = PlaceOrder(new_id(), new_id(), "ada@example.com", (lines[0], RequestedLine("CAP-01", 24)))
    placed = place_order(store, fitting, CAUSE)
    assert len(placed.order_placed.reserved_from or []) == MAX_RESERVATIONS


def test_settlement_goes_to_the_shard_named_by_the_order_and_needs_that_head():
    store = InMemoryEventStore()
    restock(store, "MUG-01", 16, PRICE, "EUR", CAUSE, shards=8)
    order_id = order_for_shard(6, 8)
    place_order(store, command(order_id, "MUG-01", 2), CAUSE)
    record_payment(store, FakePaymentGateway(), order_id, CAUSE)
    order = load_order(store, order_id)
    assert order is not None
    assert settlement.reserved_heads(order) == ["MUG-01#6"]
    decided = settlement.decide(order, store.read_heads(settlement.reserved_heads(order)), True)
    assert decided.stock_events == {
        "MUG-01#6": [m.StockCommitted(sku="MUG-01", order_id=order_id, quantity=2)]
    }
    settle_order(store, order_id, True, CAUSE)
    heads = heads_after(store, "MUG-01")
    assert [(h.shard, h.committed) for h in heads if h.committed] == [(6, 2)]


class LosesFirstRaces(InMemoryEventStore):
    """A store whose first `losses` transactions lose their race, as if another order won."""

    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses = losses

    def transact(self, appends, heads=()):
        if heads and any(write.require_available for write in heads) and self.losses:
            self.losses -= 1
            raise ConcurrencyError(appends[0].stream, 0, 1)
        return super().transact(appends, heads)


def test_a_placement_reports_how_many_races_it_lost_before_it_was_written():
    store = LosesFirstRaces(losses=2)
    restock(store, "MUG-01", 8, PRICE, "EUR", CAUSE, shards=2)
    recorder = Recorder(retry=RetryPolicy(sleep=lambda _: None))
    placed = place_order(store, command(new_id(), "MUG-01", 1), CAUSE, recorder=recorder)
    assert placed.conflict_retries == 2
    assert place_order(store, command(new_id(), "MUG-01", 1), CAUSE).conflict_retries == 0


class RivalWinsFirst(InMemoryEventStore):
    """A store on which `rival` is placed just before the first placement's transaction, so
    that a placement on the rival's shard really loses the race; it keeps the heads each
    placement transaction wrote or tried to."""

    def __init__(self, rival: PlaceOrder) -> None:
        super().__init__()
        self.rival: PlaceOrder | None = rival
        self.tried: list[list[str]] = []

    def transact(self, appends, heads=()):
        reserving = [write.head.head for write in heads if write.require_available]
        if reserving and self.rival is not None:
            rival, self.rival = self.rival, None
            place_order(self, rival, CAUSE)
        if reserving:
            self.tried.append(reserving)
        return super().transact(appends, heads)


def test_a_retry_after_a_lost_race_starts_from_another_shard_not_the_one_it_lost_on():
    rival = command(order_for_shard(3, 8), "MUG-01", 1)
    store = RivalWinsFirst(rival)
    restock(store, "MUG-01", 80, PRICE, "EUR", CAUSE, shards=8)
    recorder = Recorder(retry=RetryPolicy(sleep=lambda _: None))
    order_id = order_for_shard(3, 8)
    while chosen_shard(order_id, 8, attempt=1) == 0:  # shard 0's head is the SKU's own
        order_id = order_for_shard(3, 8)
    retried_on = chosen_shard(order_id, 8, attempt=1)
    placed = place_order(store, command(order_id, "MUG-01", 1), CAUSE, recorder=recorder)
    assert placed.conflict_retries == 1
    assert retried_on != 3
    assert store.tried == [["MUG-01#3"], ["MUG-01#3"], [f"MUG-01#{retried_on}"]]  # rival, lost, retried
    assert placed.order_placed.reserved_from == [
        m.ReservedFromItem(sku="MUG-01", shard=retried_on, quantity=1)
    ]
    reserved = [h.reserved for h in heads_after(store, "MUG-01")]
    assert reserved == [1 if shard in (3, retried_on) else 0 for shard in range(8)]


def test_orders_that_lost_the_same_race_retry_on_different_shards():
    """Moving every loser one shard on would take their race along with them."""
    losers = [order_for_shard(3, 8) for _ in range(100)]
    retries = Counter(chosen_shard(order_id, 8, attempt=1) for order_id in losers)
    assert 3 not in retries
    assert len(retries) == 7  # every other shard
    assert max(retries.values()) < 30  # about 100 / 7 each, not all on one
    for order_id in losers[:10]:
        shards = [chosen_shard(order_id, 8, attempt) for attempt in range(16)]
        assert all(a != b for a, b in itertools.pairwise(shards))  # never where it just lost


def test_each_attempt_moves_the_chosen_shard_on_and_still_falls_back_when_it_is_short():
    heads = [InventoryItem("MUG-01", available=5, shards=4, span=4, price=PRICE, currency="EUR")] + [
        InventoryItem("MUG-01", shard=shard, available=units) for shard, units in ((1, 5), (2, 0), (3, 5))
    ]
    order_id = order_for_shard(3, 4)
    while chosen_shard(order_id, 4, attempt=1) != 2:  # its retry starts on the empty shard
        order_id = order_for_shard(3, 4)
    assert chosen_shard(order_id, 4, 0) == 3
    assert placement.allocate(heads, order_id, 1, attempt=0) == {3: 1}
    assert placement.allocate(heads, order_id, 1, attempt=1) == {3: 1}  # shard 2 is empty: the next
    assert placement.allocate(heads, order_id, 20, attempt=1) is None
    assert all(chosen_shard(order_id, 1, attempt) == 0 for attempt in range(5))  # one shard: always 0
