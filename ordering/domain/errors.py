"""Domain errors, one type per reason, so that handlers map them to answers by type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class DomainError(Exception):
    """A command was refused by the business rules. Nothing was written."""


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


class OutOfStock(DomainError):
    """Some SKUs do not have enough units; every short SKU is named."""

    def __init__(self, shortages: list[Shortage]) -> None:
        self.shortages = shortages
        detail = ", ".join(f"{s.sku} (asked {s.requested}, available {s.available})" for s in shortages)
        super().__init__(f"Not enough stock for {detail}")


class UnknownSku(DomainError):
    """The SKU is not in the catalog (never stocked, or never priced)."""

    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"Unknown SKU: {', '.join(skus)}")


class DuplicateSku(DomainError):
    """The same SKU appears on more than one line of an order; `lines` maps line index -> SKU."""

    def __init__(self, lines: Mapping[int, str]) -> None:
        self.lines = dict(lines)
        super().__init__(f"Each SKU may appear on one line only: {', '.join(sorted(set(lines.values())))}")


class CurrencyMismatch(DomainError):
    """An order's lines are priced in different currencies; an order has exactly one."""

    def __init__(self, currencies: Mapping[str, str]) -> None:
        self.currencies = dict(currencies)
        detail = ", ".join(f"{sku} in {currency}" for sku, currency in sorted(currencies.items()))
        super().__init__(f"An order is paid in one currency; these lines differ: {detail}")


class InvalidTransition(DomainError):
    """The command does not apply to the aggregate in its current state."""

    def __init__(self, aggregate: str, state: str, command: str) -> None:
        self.aggregate, self.state, self.command = aggregate, state, command
        super().__init__(f"{command} is not allowed for {aggregate} in state {state}")


class NotFound(DomainError):
    """The aggregate does not exist."""

    def __init__(self, aggregate: str) -> None:
        self.aggregate = aggregate
        super().__init__(f"{aggregate} does not exist")


class NotCancellable(InvalidTransition):
    """The customer asked to cancel an order that is fulfilled or already cancelled."""

    def __init__(self, order_id: str, state: str) -> None:
        super().__init__(f"order {order_id}", state, "cancel")
        self.order_id = order_id
