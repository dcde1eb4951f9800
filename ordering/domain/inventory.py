"""The Inventory item aggregate: one per SKU shard. Its stock moves available -> reserved -> committed.

Placing an order reserves; a paid order commits what it reserved; a failed payment releases
it. `available + reserved + committed` only ever grows, by StockAdded.

A hot SKU's stock can be split into K shards so that concurrent orders write different heads
(docs/benchmarks.md §5). Shard 0 is the SKU's catalog head: price, currency and K. Every shard
is an InventoryItem of its own stream; the SKU's stock is the sum over its shards. Changing K,
or restocking a sharded SKU, spreads the available units evenly over the K shards with
StockMoved (recorded on both shards, so no unit appears or vanishes); reserved and committed
units stay in the shard whose orders hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from generated import models as m
from ordering.domain.changed import changed
from ordering.domain.errors import InvalidTransition
from ordering.domain.events import DomainEvent
from ordering.domain.money import format_money, parse_money
from ordering.domain.recorded import Recorded
from ordering.domain.streams import head_id, split_head

# A re-shard over K shards writes at most 2 + K + 2 * (K - 1) events (StockSharded and a price,
# an add per shard, a move's two ends per pair) and K heads: 4K items, one transaction's 100 at 25.
MAX_SHARDS = 25


@dataclass(frozen=True)
class InventoryItem:
    sku: str
    available: int = 0
    reserved: int = 0
    committed: int = 0
    price: Decimal | None = None
    currency: str | None = None
    version: int = 0
    shard: int = 0
    shards: int = 1  # on shard 0: how many shards orders reserve from
    span: int = 1  # on shard 0: how many shards may hold stock (every shard ever used)

    @property
    def on_sale(self) -> bool:
        """A SKU can be ordered once it has a price."""
        return self.price is not None

    @property
    def head(self) -> str:
        """This shard's name in `EventStore.read_heads`."""
        return head_id(self.sku, self.shard)


def empty_head(head: str) -> InventoryItem:
    """The state of a shard that has no head yet, by its `read_heads` name."""
    sku, shard = split_head(head)
    return InventoryItem(sku, shard=shard)


def shard_heads(catalog: Mapping[str, InventoryItem], sku: str) -> list[InventoryItem]:
    """Every shard of `sku` that may hold stock, shard 0 first; a shard without a head yet is empty.
    `catalog` is heads by `InventoryItem.head`."""
    first = catalog.get(sku) or InventoryItem(sku)
    return [first] + [
        catalog.get(head_id(sku, shard)) or InventoryItem(sku, shard=shard) for shard in range(1, first.span)
    ]


def other_shards(catalog: Mapping[str, InventoryItem]) -> list[str]:
    """The heads beyond shard 0 that the SKUs of `catalog` (catalog heads) have: read them next."""
    return [head_id(item.sku, shard) for item in catalog.values() for shard in range(1, item.span)]


def total_available(heads: Sequence[InventoryItem]) -> int:
    return sum(head.available for head in heads)


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


@dataclass(frozen=True)
class Restock:
    """Add `quantity` units, set the price, and split the stock into `shards` (None: as it is)."""

    sku: str
    quantity: int
    price: Decimal
    currency: str
    shards: int | None = None


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


def restock(heads: Sequence[InventoryItem], command: Restock) -> dict[int, list[DomainEvent]]:
    """The events per shard of a restock, decided on every shard of the SKU (`shard_heads`).

    The SKU's available units plus the new ones end up spread evenly over its K shards (the
    retired ones, beyond K, are emptied): the new units go where units are missing, then
    StockMoved carries the rest from the shards that have too many. With K = 1 this is a
    StockAdded on shard 0, as for a SKU that was never sharded.
    """
    catalog = heads[0]
    shards = command.shards or catalog.shards
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"a SKU has 1 to {MAX_SHARDS} shards, not {shards}")
    span = max(len(heads), shards)
    events: dict[int, list[DomainEvent]] = {shard: [] for shard in range(span)}
    if shards != catalog.shards:
        events[0].append(m.StockSharded(sku=command.sku, shards=shards))
    available = [head.available for head in heads] + [0] * (span - len(heads))
    target = _even(sum(available) + command.quantity, shards) + [0] * (span - shards)
    missing = [max(want - have, 0) for want, have in zip(target, available, strict=True)]
    to_add = command.quantity
    for shard in range(span):
        added = min(missing[shard], to_add)
        if added:
            events[shard].append(m.StockAdded(sku=command.sku, quantity=added))
            missing[shard] -= added
            to_add -= added
    surplus = [max(have - want, 0) for want, have in zip(target, available, strict=True)]
    givers = iter([shard for shard in range(span) if surplus[shard]])
    giver = next(givers, None)
    for taker in range(span):
        while missing[taker]:
            assert giver is not None  # the surplus covers what the new units did not
            moved = min(missing[taker], surplus[giver])
            move = m.StockMoved(sku=command.sku, from_shard=giver, to_shard=taker, quantity=moved)
            events[giver].append(move)
            events[taker].append(move)
            missing[taker] -= moved
            surplus[giver] -= moved
            if not surplus[giver]:
                giver = next(givers, None)
    events[0] += decide(catalog, ChangePrice(command.sku, command.price, command.currency))
    return {shard: changes for shard, changes in events.items() if changes}


def _even(units: int, shards: int) -> list[int]:
    return [units // shards + (1 if shard < units % shards else 0) for shard in range(shards)]


def _require_reserved(state: InventoryItem, quantity: int, command: str) -> None:
    if state.reserved < quantity:
        raise InvalidTransition(f"SKU {state.sku}", f"reserved={state.reserved}", f"{command}({quantity})")


# --- evolve / fold ------------------------------------------------------------------------------


def evolve(state: InventoryItem | None, event: Recorded) -> InventoryItem:
    # By the event's exact class, one dict lookup: singledispatch's would cost more than most
    # applies, and registering by annotation evaluated every apply's type hints at import.
    apply = _APPLY.get(type(event.data), _not_ours)
    return apply(event.data, state or _new_head(event), event.version)


def _new_head(event: Recorded) -> InventoryItem:
    return empty_head(event.stream.partition("#")[2])


def _not_ours(data: DomainEvent, state: InventoryItem, version: int) -> InventoryItem:
    raise TypeError(f"{type(data).__name__} does not belong to a SKU stream")


def _added(data: m.StockAdded, state: InventoryItem, version: int) -> InventoryItem:
    return changed(state, available=state.available + data.quantity, version=version)


def _priced(data: m.PriceChanged, state: InventoryItem, version: int) -> InventoryItem:
    return changed(state, price=parse_money(data.price), currency=data.currency, version=version)


def _reserved(data: m.StockReserved, state: InventoryItem, version: int) -> InventoryItem:
    return changed(
        state,
        available=state.available - data.quantity,
        reserved=state.reserved + data.quantity,
        version=version,
    )


def _committed(data: m.StockCommitted, state: InventoryItem, version: int) -> InventoryItem:
    return changed(
        state,
        reserved=state.reserved - data.quantity,
        committed=state.committed + data.quantity,
        version=version,
    )


def _released(data: m.StockReleased, state: InventoryItem, version: int) -> InventoryItem:
    return changed(
        state,
        reserved=state.reserved - data.quantity,
        available=state.available + data.quantity,
        version=version,
    )


def _sharded(data: m.StockSharded, state: InventoryItem, version: int) -> InventoryItem:
    return changed(state, shards=data.shards, span=max(state.span, data.shards), version=version)


def _moved(data: m.StockMoved, state: InventoryItem, version: int) -> InventoryItem:
    """The same event is on both shards' streams: it takes units from one and gives them to the other."""
    change = (data.quantity if state.shard == data.to_shard else 0) - (
        data.quantity if state.shard == data.from_shard else 0
    )
    return changed(state, available=state.available + change, version=version)


_APPLY: dict[type[DomainEvent], Callable[[Any, InventoryItem, int], InventoryItem]] = {
    m.StockAdded: _added,
    m.PriceChanged: _priced,
    m.StockReserved: _reserved,
    m.StockCommitted: _committed,
    m.StockReleased: _released,
    m.StockSharded: _sharded,
    m.StockMoved: _moved,
}
