"""Settling an order after its payment outcome: one decision over the order and its SKUs.

Paid: OrderFulfilled and a StockCommitted per line. Declined: OrderCancelled and a
StockReleased per line. An order already settled decides nothing (a redelivery); an order
whose payment outcome is not the one being settled is an InvalidTransition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ordering.domain import inventory, order
from ordering.domain.errors import InvalidTransition
from ordering.domain.events import DomainEvent
from ordering.domain.inventory import CommitStock, InventoryItem, ReleaseStock
from ordering.domain.order import CancelOrder, FulfilOrder, Order, Status

SETTLED = (Status.FULFILLED, Status.CANCELLED)


@dataclass(frozen=True)
class Settlement:
    order_events: list[DomainEvent] = field(default_factory=list)
    stock_events: dict[str, list[DomainEvent]] = field(default_factory=dict)


def decide(state: Order, catalog: Mapping[str, InventoryItem], paid: bool) -> Settlement:
    """`catalog` holds the current state of each SKU on the order."""
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
        line.sku: inventory.decide(
            catalog.get(line.sku, InventoryItem(line.sku)), move(line.sku, state.id, line.quantity)
        )
        for line in state.lines
    }
    return Settlement(order_events, stock_events)
