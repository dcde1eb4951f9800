"""Read a SKU's stock heads: the catalog head and its shards.

Kept apart from loading.py so that the functions that place and restock, which read heads
alone, do not import the Order and User aggregates at their cold start."""

from __future__ import annotations

from collections.abc import Iterable

from ordering.domain.inventory import InventoryItem, empty_head, other_shards
from ordering.ports.event_store import EventStore
from ordering.services.shard_spans import ShardSpans


def load_heads(
    store: EventStore, skus: Iterable[str], spans: ShardSpans | None = None
) -> dict[str, InventoryItem]:
    """The head of every shard of the SKUs, by InventoryItem.head (a SKU never stocked is
    missing, a shard without a head yet is an empty head). The catalog heads say how many
    shards there are: with `spans` (what this container last saw), the other shards are asked
    for in the same read, and only those the catalog heads add are read after it; without,
    they are all read after it."""
    spans = ShardSpans() if spans is None else spans
    skus = list(dict.fromkeys(skus))
    asked = spans.heads_to_read(skus)
    heads = read_shard_heads(store, asked, skus)
    catalog = [heads[sku] for sku in skus if sku in heads]
    spans.learn(catalog)
    shards = other_shards({item.sku: item for item in catalog})
    unread = sorted(set(shards).difference(asked))
    if unread:
        heads |= read_shard_heads(store, unread, skus)
    return {head: heads[head] for head in skus + shards if head in heads}


def read_shard_heads(store: EventStore, heads: list[str], catalog: list[str]) -> dict[str, InventoryItem]:
    """The heads asked for; a shard beyond the `catalog` heads that has no head yet is empty."""
    found = store.read_heads(heads)
    return {
        head: found.get(head) or empty_head(head) for head in heads if head in found or head not in catalog
    }
