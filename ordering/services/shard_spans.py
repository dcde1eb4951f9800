"""What this container knows of the sharded SKUs: their catalog heads as last read, and the
shard its last order of each reserved from.

Only a SKU's catalog head (shard 0) says how many shards it has, and so which one an order
reserves from. Remembering the catalog heads from the last read lets the next read (a retry,
or the next order of a warm container) ask for the catalog head and the chosen shard in one
BatchGetItem, and a read of every shard (restock) ask for all of them at once. It is only a
hint: the catalog head read with them is the truth, so a hint gone stale costs a second read
of the heads it missed, or reading a head nobody uses, and never changes a decision.

The next order of a SKU starts from the shard the last one reserved from (placement's
`start`): a container keeps to a shard while it wins there and moves on when it loses, so the
containers in flight spread over the shards instead of meeting on them at random.
"""

from __future__ import annotations

from collections.abc import Iterable

from generated import models as m
from ordering.domain.inventory import InventoryItem
from ordering.domain.streams import head_id

MAX_SKUS = 1024  # a container remembers at most this many sharded SKUs; then it starts afresh


class ShardSpans:
    def __init__(self) -> None:
        self._catalog: dict[str, InventoryItem] = {}
        self._reserved_from: dict[str, int] = {}

    def catalog_heads(self, skus: Iterable[str]) -> dict[str, InventoryItem]:
        """The remembered catalog heads of those of `skus` that are sharded, by SKU."""
        return {sku: self._catalog[sku] for sku in skus if sku in self._catalog}

    def heads_to_read(self, skus: Iterable[str]) -> list[str]:
        """The catalog heads of `skus`, then every other shard they were last seen to span."""
        catalog = list(dict.fromkeys(skus))
        return catalog + [
            head_id(sku, shard)
            for sku, item in self.catalog_heads(catalog).items()
            for shard in range(1, item.span)
        ]

    def starts(self, skus: Iterable[str]) -> dict[str, int]:
        """The shard this container's last order of each of `skus` reserved from, if it knows one."""
        return {sku: self._reserved_from[sku] for sku in skus if sku in self._reserved_from}

    def placed(self, order_placed: m.OrderPlaced) -> None:
        """Remember where this order reserved, per sharded SKU: the first shard it took from."""
        shards: dict[str, int] = {}
        reserved_from = order_placed.reserved_from
        for taken in reserved_from if isinstance(reserved_from, list) else ():  # absent: all from shard 0
            shards.setdefault(taken.sku, taken.shard)
        for line in order_placed.lines:
            if line.sku in self._catalog:
                self._reserved_from[line.sku] = shards.get(line.sku, 0)

    def learn(self, catalog: Iterable[InventoryItem]) -> None:
        """Remember these catalog heads (shard 0), just read."""
        for item in catalog:
            if item.span > 1:
                if len(self._catalog) >= MAX_SKUS and item.sku not in self._catalog:
                    self._catalog.clear()
                    self._reserved_from.clear()
                self._catalog[item.sku] = item
            else:
                self._catalog.pop(item.sku, None)
                self._reserved_from.pop(item.sku, None)
