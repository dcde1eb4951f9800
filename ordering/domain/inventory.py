"""The Inventory item aggregate: one per SKU. Its stock moves available -> reserved -> committed.

Placing an order reserves; a paid order commits what it reserved; a failed payment releases
it. `available + reserved + committed` only ever grows, by StockAdded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import singledispatch

from generated import models as m
from ordering.domain.changed import changed
from ordering.domain.errors import InvalidTransition
from ordering.domain.events import DomainEvent
from ordering.domain.money import format_money, parse_money
from ordering.domain.recorded import Recorded


@dataclass(frozen=True)
class InventoryItem:
    sku: str
    available: int = 0
    reserved: int = 0
    committed: int = 0
    price: Decimal | None = None
    currency: str | None = None
    version: int = 0

    @property
    def on_sale(self) -> bool:
        """A SKU can be ordered once it has a price."""
        return self.price is not None


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddStock:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ChangePrice:
    sku: str
    price: Decimal
    currency: str


@dataclass(frozen=True)
class CommitStock:
    sku: str
    order_id: str
    quantity: int


@dataclass(frozen=True)
class ReleaseStock:
    sku: str
    order_id: str
    quantity: int


InventoryCommand = AddStock | ChangePrice | CommitStock | ReleaseStock


def decide(state: InventoryItem, command: InventoryCommand) -> list[DomainEvent]:
    """Reservations are decided with the whole order, in placement.decide."""
    match command:
        case AddStock(quantity=0):
            return []
        case AddStock(sku=sku, quantity=quantity):
            return [m.StockAdded(sku=sku, quantity=quantity)]
        case ChangePrice(sku=sku, price=price, currency=currency):
            if state.price == price and state.currency == currency:
                return []
            return [m.PriceChanged(sku=sku, price=format_money(price), currency=currency)]
        case CommitStock(sku=sku, order_id=order_id, quantity=quantity):
            _require_reserved(state, quantity, "CommitStock")
            return [m.StockCommitted(sku=sku, order_id=order_id, quantity=quantity)]
        case ReleaseStock(sku=sku, order_id=order_id, quantity=quantity):
            _require_reserved(state, quantity, "ReleaseStock")
            return [m.StockReleased(sku=sku, order_id=order_id, quantity=quantity)]
    raise TypeError(f"not an inventory command: {command!r}")


def _require_reserved(state: InventoryItem, quantity: int, command: str) -> None:
    if state.reserved < quantity:
        raise InvalidTransition(f"SKU {state.sku}", f"reserved={state.reserved}", f"{command}({quantity})")


# --- evolve / fold ------------------------------------------------------------------------------


def evolve(state: InventoryItem | None, event: Recorded) -> InventoryItem:
    # By the event's exact class: singledispatch's own lookup costs more than most applies.
    apply = _apply.registry.get(type(event.data), _apply)
    return apply(event.data, state or InventoryItem(sku=_sku_of(event)), event.version)


def _sku_of(event: Recorded) -> str:
    return event.stream.partition("#")[2]


@singledispatch
def _apply(data: DomainEvent, state: InventoryItem, version: int) -> InventoryItem:
    raise TypeError(f"{type(data).__name__} does not belong to a SKU stream")


@_apply.register
def _added(data: m.StockAdded, state: InventoryItem, version: int) -> InventoryItem:
    return changed(state, available=state.available + data.quantity, version=version)


@_apply.register
def _priced(data: m.PriceChanged, state: InventoryItem, version: int) -> InventoryItem:
    return changed(state, price=parse_money(data.price), currency=data.currency, version=version)


@_apply.register
def _reserved(data: m.StockReserved, state: InventoryItem, version: int) -> InventoryItem:
    return changed(
        state,
        available=state.available - data.quantity,
        reserved=state.reserved + data.quantity,
        version=version,
    )


@_apply.register
def _committed(data: m.StockCommitted, state: InventoryItem, version: int) -> InventoryItem:
    return changed(
        state,
        reserved=state.reserved - data.quantity,
        committed=state.committed + data.quantity,
        version=version,
    )


@_apply.register
def _released(data: m.StockReleased, state: InventoryItem, version: int) -> InventoryItem:
    return changed(
        state,
        reserved=state.reserved - data.quantity,
        available=state.available + data.quantity,
        version=version,
    )
