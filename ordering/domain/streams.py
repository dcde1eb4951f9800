"""Stream names. A stream is one aggregate's events; its name is the table's partition key.

A SKU's stock may be split into shards, each its own stream with its own head: shard 0 is
`SKU#<sku>` (which also carries the catalog: price, shard count), shard n > 0 is
`SKU#<sku>#<n>`. A SKU never contains `#`, so the two cannot be confused.
"""

from __future__ import annotations

ORDER, SKU, USER = "ORDER", "SKU", "USER"


def order_stream(order_id: str) -> str:
    return f"{ORDER}#{order_id}"


def sku_stream(sku: str, shard: int = 0) -> str:
    return f"{SKU}#{head_id(sku, shard)}"


def head_id(sku: str, shard: int = 0) -> str:
    """How a shard's head is named in `EventStore.read_heads`: the SKU itself for shard 0."""
    return sku if shard == 0 else f"{sku}#{shard}"


def split_head(head: str) -> tuple[str, int]:
    """ "MUG-01#3" -> ("MUG-01", 3); "MUG-01" -> ("MUG-01", 0)."""
    sku, _, shard = head.partition("#")
    return sku, int(shard) if shard else 0


def user_stream(user_id: str) -> str:
    return f"{USER}#{user_id}"


def split_stream(stream: str) -> tuple[str, str]:
    """ "ORDER#6f1c..." -> ("ORDER", "6f1c...")."""
    kind, _, identity = stream.partition("#")
    if kind not in (ORDER, SKU, USER) or not identity:
        raise ValueError(f"not a stream name: {stream!r}")
    return kind, identity
