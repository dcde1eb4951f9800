"""An admin adds stock to a SKU, sets its price and (optionally) how many shards its stock is in.

StockAdded, PriceChanged if the price changes, StockSharded if the shard count changes, and
StockMoved to spread the available units evenly over the shards: every shard head it changes
is written in one transaction, each under the version it was read at.
"""

from __future__ import annotations

from decimal import Decimal

from ordering.domain import inventory
from ordering.domain.inventory import InventoryItem, Restock, shard_heads
from ordering.ports.event_store import EventStore
from ordering.services.recording import DEFAULT, Decision, Recorder, SkuChange
from ordering.services.stamp import Cause
from ordering.services.stock_heads import load_heads


def restock(
    store: EventStore,
    sku: str,
    quantity: int,
    price: Decimal,
    currency: str,
    cause: Cause,
    *,
    shards: int | None = None,
    recorder: Recorder = DEFAULT,
) -> list[InventoryItem]:
    """Every shard of the SKU after the restock, shard 0 first (unchanged when there was
    nothing to change)."""
    command = Restock(sku, quantity, price, currency, shards)

    def load() -> list[InventoryItem]:
        return shard_heads(load_heads(store, [sku]), sku)

    def decide(heads: list[InventoryItem]) -> Decision:
        events = inventory.restock(heads, command)
        span = max(len(heads), shards or 1)
        padded = heads + [InventoryItem(sku, shard=shard) for shard in range(len(heads), span)]
        return Decision(skus=[SkuChange(head, events.get(head.shard, [])) for head in padded])

    items = recorder.record(store, cause, load, decide).items
    return shard_heads(items, sku)
