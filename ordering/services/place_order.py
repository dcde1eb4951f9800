"""Place an order: price it, reserve its stock and record it, in one DynamoDB transaction.

Read the SKU heads (for a sharded SKU, its catalog head and the shard chosen for this order,
in one BatchGetItem once the container knows the SKU's shard count: ShardSpans; the other
shards only when that one is short) -> decide (pure) -> one transaction: OrderPlaced, a
StockReserved per SKU shard reserved from, and each of those heads updated under
`version = seen AND available >= quantity`. Heads of shards not reserved from are neither
read (unless needed), written nor checked, which is what lets concurrent orders of one SKU
pass each other. A lost race is re-read and retried, from another shard of a sharded SKU (the
attempt number moves placement's choice on); a refusal (out of stock, unknown SKU, ...)
writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from generated import models as m
from ordering.domain import placement
from ordering.domain.inventory import InventoryItem, empty_head
from ordering.domain.placement import PlaceOrder
from ordering.domain.streams import order_stream
from ordering.ports.event_store import EventStore
from ordering.services.recording import DEFAULT, Decision, Recorder, SkuChange, StreamChange
from ordering.services.shard_spans import ShardSpans
from ordering.services.stamp import Cause
from ordering.services.stock_heads import read_shard_heads


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    order_placed: m.OrderPlaced
    event_ids: list[str] = field(default_factory=list)
    conflict_retries: int = 0  # races lost to other writers of the same heads before it was written


def place_order(
    store: EventStore,
    command: PlaceOrder,
    cause: Cause,
    *,
    recorder: Recorder = DEFAULT,
    spans: ShardSpans | None = None,
) -> PlacedOrder:
    """Raises a DomainError when refused, ConflictRetriesExhausted when it keeps losing races.

    `spans`: the container's (bootstrap.shard_spans); without, a retry still reads the heads
    it needs in one round trip, knowing the shard count from the read before."""
    spans = ShardSpans() if spans is None else spans
    start = spans.starts(line.sku for line in command.lines)  # where this container last reserved
    attempt = -1  # the recorder loads, then decides, once per attempt

    def load() -> dict[str, InventoryItem]:
        nonlocal attempt
        attempt += 1
        return load_heads_to_place(store, command, attempt, spans, start)

    def decide(catalog: Mapping[str, InventoryItem]) -> Decision:
        placed = placement.decide(catalog, command, attempt, start)
        return Decision(
            streams=[StreamChange(order_stream(command.order_id), 0, [placed.order_placed])],
            skus=[
                SkuChange(
                    catalog.get(head) or empty_head(head), [reserved], require_available=reserved.quantity
                )
                for head, reserved in placed.reservations.items()
            ],
        )

    written = recorder.record(store, cause, load, decide)
    order_placed = written.events[0].data
    assert isinstance(order_placed, m.OrderPlaced)
    spans.placed(order_placed)
    return PlacedOrder(
        command.order_id, order_placed, [event.event_id for event in written.events], written.attempts - 1
    )


def load_heads_to_place(
    store: EventStore,
    command: PlaceOrder,
    attempt: int,
    spans: ShardSpans | None = None,
    start: Mapping[str, int] | None = None,
) -> dict[str, InventoryItem]:
    """The heads placing `command` at `attempt` from `start` needs (placement.heads_to_decide):
    each SKU's catalog head and chosen shard, and a short one's other shards. With `spans`, the chosen
    shards are asked for with the catalog heads, in one read; what the catalog heads show the
    hint missed is read after it."""
    spans = ShardSpans() if spans is None else spans
    skus = list(dict.fromkeys(line.sku for line in command.lines))
    hinted = placement.heads_to_decide(spans.catalog_heads(skus), command, attempt, start)
    heads = read_shard_heads(store, skus + hinted, skus)
    spans.learn(heads[sku] for sku in skus if sku in heads)
    # At most twice: the chosen shards the hint missed, then a short one's other shards.
    while needed := placement.heads_to_decide(heads, command, attempt, start):
        heads |= read_shard_heads(store, needed, skus)
    return heads
