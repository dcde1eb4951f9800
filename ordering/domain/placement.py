"""Placing an order: one decision over the order and the catalog entries of its SKUs.

It prices every line from the catalog (never from the client), checks that the SKUs are
distinct, known, in one currency and in stock, and decides OrderPlaced plus one
StockReserved per SKU shard it reserves from. Every problem of one kind is reported at once.

A sharded SKU reserves from the shard a hash of the order id chooses, so that concurrent
orders write different heads, or from the shard the container's last order of the SKU
reserved from (`start`: a container that won there keeps to it, one that lost moves on, so
that the containers in flight spread over the shards by themselves instead of at random), and
a retry after a lost race from another shard, one its own
hash picks, so that it does not meet the winner's successors there again, nor the other
losers of that race (moving them all one shard on would only take the race along); when that
shard is short, from the next one that has the whole quantity, and else from several. The order is out
of stock only when the SKU as a whole is.

So a placement needs a sharded SKU's catalog head and its chosen shard, and the other shards
only when the chosen one is short: `heads_to_decide` says which heads are still to be read,
and `decide` refuses to run before they are.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
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
from ordering.domain.inventory import InventoryItem, shard_heads, total_available
from ordering.domain.money import format_money
from ordering.domain.recorded import format_timestamp
from ordering.domain.streams import head_id

MAX_AMOUNT = Decimal("9999999999.99")  # the largest amount the money schema can carry
# OrderPlaced, and a StockReserved and a head per shard reserved from, in one transaction of
# at most 100 items; settling or releasing the order writes as many. A line split over shards
# counts once per shard.
MAX_RESERVATIONS = 49


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
    """What placing the order decided: the order's first event and a reservation per SKU shard
    it reserves from, by `InventoryItem.head` (the SKU itself for an unsharded SKU)."""

    order_placed: m.OrderPlaced
    reservations: dict[str, m.StockReserved]


class AmountTooLarge(DomainError):
    def __init__(self, amount: Decimal) -> None:
        super().__init__(
            f"The order's total {amount} exceeds the largest amount we can charge ({MAX_AMOUNT})"
        )


class TooManyReservations(DomainError):
    """The stock left is so scattered over a sharded SKU's shards that the order would reserve
    from more of them than one transaction can write (a restock, even of 0 units, re-spreads it)."""

    def __init__(self, reservations: int) -> None:
        super().__init__(
            f"The order would reserve from {reservations} stock shards, more than the "
            f"{MAX_RESERVATIONS} one order can; order fewer units per line or fewer lines at once"
        )


def chosen_shard(order_id: str, shards: int, attempt: int = 0, start: int | None = None) -> int:
    """The shard an order reserves from first at `attempt` (0 first): `start` if it is one of
    the `shards` active ones, else one a hash of the order id spreads over the orders; and at
    each retry moved on by a step of 1 to shards - 1 that a hash of the order and the attempt
    picks, so that a retry never starts where its order lost the race and the orders that lost
    the same race go their separate ways."""
    shard = start if start is not None and 0 <= start < shards else zlib.crc32(order_id.encode()) % shards
    for retry in range(1, attempt + 1 if shards > 1 else 1):
        step = 1 + zlib.crc32(f"{order_id}#{retry}".encode()) % (shards - 1)
        shard = (shard + step) % shards
    return shard


def allocate(
    heads: Sequence[InventoryItem], order_id: str, quantity: int, attempt: int = 0, start: int | None = None
) -> dict[int, int] | None:
    """Units to reserve per shard (`heads`: every shard, shard 0 first), None if the SKU is short.

    The chosen shard (for this attempt) first, then the other active shards after it, then the retired ones
    (which hold only units released after a re-shard); one shard with the whole quantity if
    any has it, else as few shards as this order of trying gives."""
    active = heads[0].shards
    first = chosen_shard(order_id, active, attempt, start)
    order = [(first + step) % active for step in range(active)] + list(range(active, len(heads)))
    for shard in order:
        if heads[shard].available >= quantity:
            return {shard: quantity}
    taken: dict[int, int] = {}
    for shard in order:
        take = min(heads[shard].available, quantity - sum(taken.values()))
        if take:
            taken[shard] = take
    return taken if sum(taken.values()) == quantity else None


def heads_to_decide(
    catalog: Mapping[str, InventoryItem],
    command: PlaceOrder,
    attempt: int = 0,
    start: Mapping[str, int] | None = None,
) -> list[str]:
    """The heads `decide` needs that `catalog` (the heads read so far, by `InventoryItem.head`)
    lacks: of each SKU whose catalog head is there, the shard chosen at `attempt`, and every
    other shard too once that one is there and short. [] when `decide` can run.

    The decision does not depend on the heads left out: `allocate` tries the chosen shard
    first and takes it whenever it holds the whole quantity."""
    start = start or {}
    needed: list[str] = []
    for line in command.lines:
        item = catalog.get(line.sku)
        if item is None:  # an unknown SKU: decide says so
            continue
        chosen = head_id(line.sku, chosen_shard(command.order_id, item.shards, attempt, start.get(line.sku)))
        if chosen not in catalog:
            needed.append(chosen)
        elif catalog[chosen].available < line.quantity:
            needed += [
                head_id(line.sku, n) for n in range(1, item.span) if head_id(line.sku, n) not in catalog
            ]
    return list(dict.fromkeys(needed))


def decide(
    catalog: Mapping[str, InventoryItem],
    command: PlaceOrder,
    attempt: int = 0,
    start: Mapping[str, int] | None = None,
) -> Placement:
    """`catalog` holds the heads `heads_to_decide` asks for, by `InventoryItem.head` (a SKU
    never stocked is missing; a shard read but without a head yet is an empty head); `attempt`:
    how many races this placement has lost so far (it moves the chosen shard on); `start`: the
    shard to try first per sharded SKU (chosen_shard), where the container last reserved."""
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

    start = start or {}
    unread = heads_to_decide(catalog, command, attempt, start)
    if unread:
        raise ValueError(f"placing {command.order_id} needs the heads {unread}, not read")
    shards = {line.sku: shard_heads(catalog, line.sku) for line in command.lines}
    allocations = {
        line.sku: allocate(shards[line.sku], command.order_id, line.quantity, attempt, start.get(line.sku))
        for line in command.lines
    }
    shortages = [
        Shortage(line.sku, line.quantity, total_available(shards[line.sku]))
        for line in command.lines
        if allocations[line.sku] is None
    ]
    if shortages:
        raise OutOfStock(shortages)
    reserved_from = [
        (line, shard, quantity)
        for line in command.lines
        for shard, quantity in (allocations[line.sku] or {}).items()
    ]
    if len(reserved_from) > MAX_RESERVATIONS:
        raise TooManyReservations(len(reserved_from))

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
            {
                "reserved_from": [
                    m.ReservedFromItem(sku=line.sku, shard=shard, quantity=quantity)
                    for line, shard, quantity in reserved_from
                ]
            }
            if any(shard != 0 for _, shard, _ in reserved_from)
            else {}
        ),
        **(
            {"payment_deadline": format_timestamp(command.payment_deadline)}
            if command.payment_deadline
            else {}
        ),
    )
    reservations = {
        shards[line.sku][shard].head: m.StockReserved(
            sku=line.sku, order_id=command.order_id, quantity=quantity
        )
        for line, shard, quantity in reserved_from
    }
    return Placement(order_placed, reservations)
