"""Placing an order: one decision over the order and the catalog entries of its SKUs.

It prices every line from the catalog (never from the client), checks that the SKUs are
distinct, known, in one currency and in stock, and decides OrderPlaced plus one
StockReserved per SKU. Every problem of one kind is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from generated import models as m
from ordering.domain.errors import (
    CurrencyMismatch,
    DomainError,
    DuplicateSku,
    OutOfStock,
    Shortage,
    UnknownSku,
)
from ordering.domain.inventory import InventoryItem
from ordering.domain.money import format_money
from ordering.domain.recorded import format_timestamp

MAX_AMOUNT = Decimal("9999999999.99")  # the largest amount the money schema can carry


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    user_id: str
    email: str
    lines: tuple[RequestedLine, ...]
    client_reference: str | None = None
    payment_deadline: datetime | None = None  # unpaid by then, the order is cancelled


@dataclass(frozen=True)
class Placement:
    """What placing the order decided: the order's first event and a reservation per SKU."""

    order_placed: m.OrderPlaced
    reservations: dict[str, m.StockReserved]


class AmountTooLarge(DomainError):
    def __init__(self, amount: Decimal) -> None:
        super().__init__(
            f"The order's total {amount} exceeds the largest amount we can charge ({MAX_AMOUNT})"
        )


def decide(catalog: Mapping[str, InventoryItem], command: PlaceOrder) -> Placement:
    """`catalog` holds the current state of each SKU on the order (missing if never stocked)."""
    seen: dict[str, int] = {}
    duplicates: dict[int, str] = {}
    for index, line in enumerate(command.lines):
        if line.sku in seen:
            duplicates[index] = line.sku
        seen.setdefault(line.sku, index)
    if duplicates:
        raise DuplicateSku(duplicates)

    items = {line.sku: catalog.get(line.sku) for line in command.lines}
    unknown = [sku for sku, item in items.items() if item is None or not item.on_sale]
    if unknown:
        raise UnknownSku(unknown)
    priced = {sku: item for sku, item in items.items() if item is not None}

    currencies = {sku: item.currency for sku, item in priced.items() if item.currency is not None}
    if len(set(currencies.values())) > 1:
        raise CurrencyMismatch(currencies)

    shortages = [
        Shortage(line.sku, line.quantity, priced[line.sku].available)
        for line in command.lines
        if priced[line.sku].available < line.quantity
    ]
    if shortages:
        raise OutOfStock(shortages)

    lines = []
    for line in command.lines:
        unit_price = priced[line.sku].price or Decimal(0)
        lines.append((line, unit_price, unit_price * line.quantity))
    total = sum((line_total for _, _, line_total in lines), Decimal(0))
    if total > MAX_AMOUNT:
        raise AmountTooLarge(total)

    order_placed = m.OrderPlaced(
        order_id=command.order_id,
        user_id=command.user_id,
        email=command.email,
        lines=[
            m.PricedLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=format_money(unit_price),
                line_total=format_money(line_total),
            )
            for line, unit_price, line_total in lines
        ],
        total=format_money(total),
        currency=next(iter(currencies.values())),
        **({"client_reference": command.client_reference} if command.client_reference else {}),
        **(
            {"payment_deadline": format_timestamp(command.payment_deadline)}
            if command.payment_deadline
            else {}
        ),
    )
    reservations = {
        line.sku: m.StockReserved(sku=line.sku, order_id=command.order_id, quantity=line.quantity)
        for line in command.lines
    }
    return Placement(order_placed, reservations)
