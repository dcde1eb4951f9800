"""Read an aggregate's stream and fold it; read a SKU's heads, all of them or those a placement needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ordering.domain import order, placement, user
from ordering.domain.fold import fold
from ordering.domain.inventory import InventoryItem, empty_head, other_shards
from ordering.domain.order import Order
from ordering.domain.placement import PlaceOrder
from ordering.domain.streams import order_stream, user_stream
from ordering.domain.user import User
from ordering.ports.event_store import EventStore
from ordering.services.shard_spans import ShardSpans


def load_order(store: EventStore, order_id: str) -> Order | None:
    return fold(order.evolve, store.read(order_stream(order_id)))


def load_user(store: EventStore, user_id: str) -> User | None:
    return fold(user.evolve, store.read(user_stream(user_id)))


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
    heads = _read(store, asked, skus)
    catalog = [heads[sku] for sku in skus if sku in heads]
    spans.learn(catalog)
    shards = other_shards({item.sku: item for item in catalog})
    unread = sorted(set(shards).difference(asked))
    if unread:
        heads |= _read(store, unread, skus)
    return {head: heads[head] for head in skus + shards if head in heads}


def load_heads_to_place(
    store: EventStore,
    command: PlaceOrder,
    attempt: int,
    spans: ShardSpans | None = None,
    start: Mapping[str, int] | None = None,
) -> dict[str, InventoryItem]:
    """The heads placing `command` at `attempt` from `start` needs (placement.heads_to_decide):
    each SKU's catalog head and chosen shard, and a short one's other shards. With `spans`, the chosen
    shards are asked for with the catalog heads, in one read; what the catalog heads show the
    hint missed is read after it."""
    spans = ShardSpans() if spans is None else spans
    skus = list(dict.fromkeys(line.sku for line in command.lines))
    hinted = placement.heads_to_decide(spans.catalog_heads(skus), command, attempt, start)
    heads = _read(store, skus + hinted, skus)
    spans.learn(heads[sku] for sku in skus if sku in heads)
    while needed := placement.heads_to_decide(heads, command, attempt, start):  # at most twice:
        heads |= _read(store, needed, skus)  # the chosen shards the hint missed, then a short one's others
    return heads


def _read(store: EventStore, heads: list[str], catalog: list[str]) -> dict[str, InventoryItem]:
    """The heads asked for; a shard beyond the `catalog` heads that has no head yet is empty."""
    found = store.read_heads(heads)
    return {
        head: found.get(head) or empty_head(head) for head in heads if head in found or head not in catalog
    }
