"""Stream names. A stream is one aggregate's events; its name is the table's partition key."""

from __future__ import annotations

ORDER, SKU, USER = "ORDER", "SKU", "USER"


def order_stream(order_id: str) -> str:
    return f"{ORDER}#{order_id}"


def sku_stream(sku: str) -> str:
    return f"{SKU}#{sku}"


def user_stream(user_id: str) -> str:
    return f"{USER}#{user_id}"


def split_stream(stream: str) -> tuple[str, str]:
    """ "ORDER#6f1c..." -> ("ORDER", "6f1c...")."""
    kind, _, identity = stream.partition("#")
    if kind not in (ORDER, SKU, USER) or not identity:
        raise ValueError(f"not a stream name: {stream!r}")
    return kind, identity
