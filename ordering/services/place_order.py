"""Place an order: price it, reserve its stock and record it, in one DynamoDB transaction.

Read the SKU heads -> decide (pure) -> one transaction: OrderPlaced, a StockReserved per SKU,
and each head updated under `version = seen AND available >= quantity`. A lost race is
re-read and retried; a refusal (out of stock, unknown SKU, ...) writes nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generated import models as m
from ordering.domain import placement
from ordering.domain.placement import PlaceOrder
from ordering.domain.streams import order_stream
from ordering.ports.event_store import Append, EventStore
from ordering.services.retry import RetryPolicy
from ordering.services.sku_changes import catalog_of, sku_writes
from ordering.services.stamp import Cause, Stamp


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    order_placed: m.OrderPlaced
    event_ids: list[str] = field(default_factory=list)


def place_order(
    store: EventStore,
    command: PlaceOrder,
    cause: Cause,
    *,
    stamp: Stamp | None = None,
    retry: RetryPolicy | None = None,
) -> PlacedOrder:
    """Raises a DomainError when refused, ConflictRetriesExhausted when it keeps losing races."""
    stamp = stamp or Stamp()
    skus = [line.sku for line in command.lines]

    def attempt() -> PlacedOrder:
        heads = store.read_heads(skus)
        decision = placement.decide(catalog_of(heads), command)
        order_events = stamp.events([decision.order_placed], cause)
        reservations = {sku: stamp.events([event], cause) for sku, event in decision.reservations.items()}
        required = {line.sku: line.quantity for line in command.lines}
        appends, heads_after = sku_writes(heads, reservations, required)
        recorded = store.transact(
            [Append(order_stream(command.order_id), 0, order_events), *appends], heads_after
        )
        return PlacedOrder(command.order_id, decision.order_placed, [event.event_id for event in recorded])

    return (retry or RetryPolicy()).run(attempt)
