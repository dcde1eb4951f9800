"""Hypothesis interleaves placements, payments, settlements and re-shards of sharded SKUs.

Each command is decided in one step and written in a later one, with any other steps in
between, so a write may land on heads that moved since its decision: the interleavings of
concurrent Lambdas. Placements read the heads they need (the catalog head and the chosen
shard, the rest when that one is short) through one ShardSpans that re-shards leave out of
date (and that starts out claiming more shards than there are), as a warm container's would;
each decides exactly as it would have over every head of its SKUs.
A write that lost its race must be refused whole. After every step, per SKU: initial =
available + reserved + committed summed over the shards, nothing negative (never oversold),
each head equals the fold of its stream, each shard's reserved equals the open reservations
the orders hold in it, and committed equals what the fulfilled orders hold.
"""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.domain import inventory, placement, settlement
from ordering.domain.errors import DomainError
from ordering.domain.fold import fold
from ordering.domain.inventory import InventoryItem, Restock, shard_heads
from ordering.domain.order import Status
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.streams import order_stream, sku_stream
from ordering.ports.event_store import ConcurrencyError
from ordering.services.loading import load_order
from ordering.services.payments import record_payment
from ordering.services.place_order import load_heads_to_place
from ordering.services.recording import DEFAULT, Decision, SkuChange, StreamChange
from ordering.services.restock import restock
from ordering.services.shard_spans import ShardSpans
from ordering.services.stamp import Cause
from ordering.services.stock_heads import load_heads
from tests.support.builders import new_id

SKUS = ["MUG-01", "CAP-01"]
CAUSE = Cause("property")
OPEN = {Status.PENDING, Status.PAID, Status.PAYMENT_FAILED}
PRICE = Decimal("1.00")


def decided(
    catalog: dict[str, InventoryItem], command: PlaceOrder, attempt: int, start: dict[str, int]
) -> placement.Placement | DomainError:
    try:
        return placement.decide(catalog, command, attempt, start)
    except DomainError as refused:
        return refused


class ShardedStock(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = InMemoryEventStore()
        self.gateway = FakePaymentGateway(decline_above=Decimal("3.00"))
        self.stocked: Counter[str] = Counter()
        self.order_ids: list[str] = []
        self.pending: list[tuple[str, Decision, str | None]] = []  # (what, decided, order placed)
        self.spans = ShardSpans()
        self.spans.learn([InventoryItem(sku, span=5) for sku in SKUS])  # wrong from the start
        for sku in SKUS:
            restock(self.store, sku, 6, PRICE, "EUR", CAUSE, shards=3)
            self.stocked[sku] += 6

    # --- decide now, write later ------------------------------------------------------------

    @rule(
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 5), min_size=1, max_size=2),
        order_id=st.uuids(),  # drawn, not random: it chooses the shard, so whether races are lost
        attempt=st.integers(0, 3),  # a retry's choice moves on from the shard it lost on
        start=st.dictionaries(st.sampled_from(SKUS), st.integers(0, 5)),  # where a container last reserved
    )
    def decide_placement(
        self, lines: dict[str, int], order_id: uuid.UUID, attempt: int, start: dict[str, int]
    ) -> None:
        command = PlaceOrder(
            str(order_id), new_id(), "ada@example.com", tuple(RequestedLine(s, q) for s, q in lines.items())
        )
        catalog = load_heads_to_place(self.store, command, attempt, self.spans, start)
        placed = decided(catalog, command, attempt, start)
        every_head = load_heads(self.store, lines)
        over_every_head = decided(every_head, command, attempt, start)
        if isinstance(placed, DomainError):
            event(f"placement refused: {type(placed).__name__}")
            assert (type(over_every_head), str(over_every_head)) == (type(placed), str(placed))
            return
        assert over_every_head == placed
        event("placement decided without every head" if set(every_head) - set(catalog) else "on every head")
        decision = Decision(
            streams=[StreamChange(order_stream(command.order_id), 0, [placed.order_placed])],
            skus=[
                SkuChange(catalog.get(head) or inventory.empty_head(head), [r], require_available=r.quantity)
                for head, r in placed.reservations.items()
            ],
        )
        self.pending.append(("place", decision, command.order_id))

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(0, 6), shards=st.integers(1, 5))
    def decide_reshard(self, sku: str, quantity: int, shards: int) -> None:
        heads = shard_heads(load_heads(self.store, [sku]), sku)
        events = inventory.restock(heads, Restock(sku, quantity, PRICE, "EUR", shards))
        padded = heads + [InventoryItem(sku, shard=n) for n in range(len(heads), max(len(heads), shards))]
        decision = Decision(skus=[SkuChange(head, events.get(head.shard, [])) for head in padded])
        self.pending.append((f"restock {sku} {quantity}", decision, None))

    @rule(index=st.integers(0, 50))
    def decide_settlement(self, index: int) -> None:
        if not self.order_ids:
            return
        order = load_order(self.store, self.order_ids[index % len(self.order_ids)])
        if order is None or order.status not in (Status.PAID, Status.PAYMENT_FAILED):
            return
        catalog = self.store.read_heads(settlement.reserved_heads(order))
        settled = settlement.decide(order, catalog, order.status is Status.PAID)
        decision = Decision(
            streams=[StreamChange(order_stream(order.id), order.version, settled.order_events)],
            skus=[
                SkuChange(catalog.get(head) or inventory.empty_head(head), events)
                for head, events in settled.stock_events.items()
            ],
        )
        self.pending.append(("settle", decision, None))

    @precondition(lambda self: self.pending)
    @rule(index=st.integers(0, 50))
    def write_a_pending_decision(self, index: int) -> None:
        what, decision, order_id = self.pending.pop(index % len(self.pending))
        try:
            DEFAULT.write(self.store, decision, CAUSE)
        except ConcurrencyError:
            event(f"{what.split()[0]}: lost its race")
            return
        event(f"{what.split()[0]}: written")
        if order_id:
            self.order_ids.append(order_id)
        if what.startswith("restock"):
            _, sku, quantity = what.split()
            self.stocked[sku] += int(quantity)

    @rule(index=st.integers(0, 50))
    def pay(self, index: int) -> None:
        if self.order_ids:
            record_payment(self.store, self.gateway, self.order_ids[index % len(self.order_ids)], CAUSE)

    # --- what must hold after every step -----------------------------------------------------

    @invariant()
    def every_unit_is_accounted_for_and_none_is_oversold(self) -> None:
        orders = [load_order(self.store, order_id) for order_id in self.order_ids]
        reserved: Counter[tuple[str, int]] = Counter()
        committed: Counter[str] = Counter()
        for order in orders:
            assert order is not None
            for r in order.reservations:
                if order.status in OPEN:
                    reserved[(r.sku, r.shard)] += r.quantity
                elif order.status is Status.FULFILLED:
                    committed[r.sku] += r.quantity
        for sku in SKUS:
            heads = shard_heads(load_heads(self.store, [sku]), sku)
            for head in heads:
                folded = fold(inventory.evolve, self.store.read(sku_stream(sku, head.shard)))
                assert folded == (head if head.version else None)
                assert min(head.available, head.reserved, head.committed) >= 0
                assert head.reserved == reserved[(sku, head.shard)]
            total = sum(head.available + head.reserved + head.committed for head in heads)
            assert total == self.stocked[sku]
            assert sum(head.committed for head in heads) == committed[sku]


ShardedStock.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestShardedStock = ShardedStock.TestCase
