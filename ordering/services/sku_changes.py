"""Append events to SKU streams together with their heads, as one unit of a transaction.

A SKU head is the fold of its stream. Every SKU event is written with the head it produces,
under the condition that the head is still the one the decision was made on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ordering.domain import inventory
from ordering.domain.fold import fold
from ordering.domain.inventory import InventoryItem
from ordering.domain.recorded import NewEvent, Recorded
from ordering.domain.streams import sku_stream
from ordering.ports.event_store import Append, HeadWrite, SkuHead


def item_of(head: SkuHead) -> InventoryItem:
    return InventoryItem(
        sku=head.sku,
        available=head.available,
        reserved=head.reserved,
        committed=head.committed,
        price=head.price,
        currency=head.currency,
        version=head.version,
    )


def head_of(item: InventoryItem) -> SkuHead:
    return SkuHead(
        sku=item.sku,
        available=item.available,
        reserved=item.reserved,
        committed=item.committed,
        price=item.price,
        currency=item.currency,
        version=item.version,
    )


def catalog_of(heads: Mapping[str, SkuHead]) -> dict[str, InventoryItem]:
    return {sku: item_of(head) for sku, head in heads.items()}


def sku_writes(
    heads: Mapping[str, SkuHead],
    events: Mapping[str, Sequence[NewEvent]],
    require_available: Mapping[str, int] | None = None,
) -> tuple[list[Append], list[HeadWrite]]:
    """The appends and head writes that record `events` on each SKU, on top of `heads`."""
    appends, writes = [], []
    for sku, new_events in events.items():
        if not new_events:
            continue
        seen = heads.get(sku)
        version = seen.version if seen else 0
        stream = sku_stream(sku)
        recorded = [Recorded.of(stream, version + n, event) for n, event in enumerate(new_events, start=1)]
        after = fold(inventory.evolve, recorded, item_of(seen) if seen else None)
        assert after is not None
        appends.append(Append(stream, version, list(new_events)))
        writes.append(HeadWrite(head_of(after), version, (require_available or {}).get(sku, 0)))
    return appends, writes
