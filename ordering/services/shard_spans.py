"""The catalog heads of the sharded SKUs, as last read in this container.

Only a SKU's catalog head (shard 0) says how many shards it has, and so which one an order
reserves from. Remembering the catalog heads from the last read lets the next read (a retry,
or the next order of a warm container) ask for the catalog head and the chosen shard in one
BatchGetItem, and a read of every shard (restock) ask for all of them at once. It is only a
hint: the catalog head read with them is the truth, so a hint gone stale costs a second read
of the heads it missed, or reading a head nobody uses, and never changes a decision.
"""

from __future__ import annotations

from collections.abc import Iterable

from ordering.domain.inventory import InventoryItem
from ordering.domain.streams import head_id

MAX_SKUS = 1024  # a container remembers at most this many sharded SKUs; then it starts afresh


class ShardSpans:
    def __init__(self) -> None:
        self._catalog: dict[str, InventoryItem] = {}

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

    def learn(self, catalog: Iterable[InventoryItem]) -> None:
        """Remember these catalog heads (shard 0), just read."""
        for item in catalog:
            if item.span > 1:
                if len(self._catalog) >= MAX_SKUS and item.sku not in self._catalog:
                    self._catalog.clear()
                self._catalog[item.sku] = item
            else:
                self._catalog.pop(item.sku, None)
