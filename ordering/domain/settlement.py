"""Settling an order after its payment outcome: one decision over the order and its SKUs.

Paid: OrderFulfilled and a StockCommitted per reservation. Declined: OrderCancelled and a
StockReleased per reservation. Each goes to the SKU shard that reserved it (Order.reservations,
from the order's own OrderPlaced), so `catalog` must hold those heads: `reserved_heads`.
An order already settled decides nothing (a redelivery); an order whose payment outcome is
not the one being settled is an InvalidTransition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ordering.domain import inventory, order
from ordering.domain.errors import InvalidTransition
from ordering.domain.events import DomainEvent
from ordering.domain.inventory import CommitStock, InventoryItem, ReleaseStock
from ordering.domain.order import CancelOrder, FulfilOrder, Order, Status
from ordering.domain.streams import head_id

SETTLED = (Status.FULFILLED, Status.CANCELLED)


@dataclass(frozen=True)
class Settlement:
    order_events: list[DomainEvent] = field(default_factory=list)
    stock_events: dict[str, list[DomainEvent]] = field(default_factory=dict)  # by InventoryItem.head


def reserved_heads(state: Order) -> list[str]:
    """The heads (`EventStore.read_heads` names) of the shards the order holds stock in."""
    return [head_id(r.sku, r.shard) for r in state.reservations]


def decide(state: Order, catalog: Mapping[str, InventoryItem], paid: bool) -> Settlement:
    """`catalog` holds the current head of each shard the order reserved from (`reserved_heads`)."""
    if state.status in SETTLED:
        return Settlement()
    expected = Status.PAID if paid else Status.PAYMENT_FAILED
    if state.status is not expected:
        raise InvalidTransition(f"order {state.id}", state.status.value, "settle after " + expected.value)
    if paid:
        order_events = order.decide(state, FulfilOrder(state.id))
    else:
        order_events = order.decide(state, CancelOrder(state.id, state.failure_reason or "payment_failed"))
    move = CommitStock if paid else ReleaseStock
    stock_events = {
        head_id(r.sku, r.shard): inventory.decide(
            catalog.get(head_id(r.sku, r.shard), InventoryItem(r.sku, shard=r.shard)),
            move(r.sku, state.id, r.quantity),
        )
        for r in state.reservations
    }
    return Settlement(order_events, stock_events)
