"""Settling an order: one decision over the order and its SKUs.

After the payment outcome: paid, OrderFulfilled and a StockCommitted per reservation;
declined, OrderCancelled and a StockReleased per reservation. Each goes to the SKU shard that
reserved it (Order.reservations, from the order's own OrderPlaced), so `catalog` must hold
those heads: `reserved_heads`. An order already settled decides nothing (a
redelivery), and so does a paid one whose customer cancelled it meanwhile (its refund
cancels it); an order whose payment outcome is not the one being settled is an
InvalidTransition. Any other command that cancels the order (the payment deadline, the
customer, a refund made) releases its stock through `cancelling`: one release path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from generated import models as m
from ordering.domain import inventory, order
from ordering.domain.errors import InvalidTransition
from ordering.domain.events import DomainEvent
from ordering.domain.inventory import CommitStock, InventoryItem, ReleaseStock
from ordering.domain.order import CancelOrder, FulfilOrder, Order, OrderCommand, Status
from ordering.domain.streams import head_id

SETTLED = (Status.FULFILLED, Status.CANCELLED, Status.REFUND_PENDING)


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
    return Settlement(order_events, _stock(state, catalog, CommitStock if paid else ReleaseStock))


def cancelling(state: Order, catalog: Mapping[str, InventoryItem], command: OrderCommand) -> Settlement:
    """The command's order events, and the reserved stock released when they cancel the order."""
    order_events = order.decide(state, command)
    if not any(isinstance(event, m.OrderCancelled) for event in order_events):
        return Settlement(order_events)
    return Settlement(order_events, _stock(state, catalog, ReleaseStock))


def _stock(
    state: Order, catalog: Mapping[str, InventoryItem], move: type[CommitStock] | type[ReleaseStock]
) -> dict[str, list[DomainEvent]]:
    """Each reservation goes back to (or is committed on) the SKU shard that made it."""
    return {
        head_id(r.sku, r.shard): inventory.decide(
            catalog.get(head_id(r.sku, r.shard), InventoryItem(r.sku, shard=r.shard)),
            move(r.sku, state.id, r.quantity),
        )
        for r in state.reservations
    }
