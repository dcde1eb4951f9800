"""How many shards each sharded SKU spans, as last read in this container.

A placement must read every head of a sharded SKU, and only the catalog head (shard 0) says
which those are. Remembering the span from the last read lets the next read (a retry, or the
next order of a warm container) ask for all of them in one BatchGetItem. It is only a hint:
the catalog head read with them is the truth, so a span that grew since costs a second read
of the heads that were not asked for, one that is too large costs reading heads nobody uses,
and neither changes a decision.
"""

from __future__ import annotations

from collections.abc import Iterable

from ordering.domain.inventory import InventoryItem
from ordering.domain.streams import head_id

MAX_SKUS = 1024  # a container remembers at most this many sharded SKUs; then it starts afresh


class ShardSpans:
    def __init__(self) -> None:
        self._spans: dict[str, int] = {}

    def heads_to_read(self, skus: Iterable[str]) -> list[str]:
        """The catalog heads of `skus`, then every other shard they were last seen to span."""
        catalog = list(dict.fromkeys(skus))
        return catalog + [
            head_id(sku, shard) for sku in catalog for shard in range(1, self._spans.get(sku, 1))
        ]

    def learn(self, catalog: Iterable[InventoryItem]) -> None:
        """Remember the spans of these catalog heads (shard 0), just read."""
        for item in catalog:
            if item.span > 1:
                if len(self._spans) >= MAX_SKUS and item.sku not in self._spans:
                    self._spans.clear()
                self._spans[item.sku] = item.span
            else:
                self._spans.pop(item.sku, None)
