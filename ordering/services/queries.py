"""What the order-history API answers: the caller's orders a page at a time, one order, and
one order's history from the log. A user only ever sees their own orders: another user's
order is NotFound, exactly like one that does not exist.

The page cursor is opaque to clients: base64url of "<created_at>|<order_id>" of the last
order on the page. It only positions a page within the caller's own orders, so a forged
cursor reveals nothing; a malformed one is an InvalidQuery naming the field.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from generated import models as m
from ordering.domain.errors import NotFound
from ordering.domain.order import Order
from ordering.domain.recorded import Recorded, format_timestamp, parse_timestamp
from ordering.domain.streams import order_stream
from ordering.ports.event_store import EventStore
from ordering.ports.read_model import OrderCursor, OrderPage, ReadModel

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_CURSOR_LENGTH = 512
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class InvalidQuery(ValueError):
    """A query parameter the API cannot use; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    next_cursor: str | None


def parse_uuid(field: str, text: str | None) -> str:
    if text is None or not UUID.match(text):
        raise InvalidQuery(field, f"{field} must be a UUID in canonical lower-case form")
    return text


def parse_limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidQuery("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def encode_cursor(cursor: OrderCursor) -> str:
    text = f"{format_timestamp(cursor.created_at)}|{cursor.order_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> OrderCursor:
    invalid = InvalidQuery("cursor", "cursor must be a next_cursor this API returned")
    if not 1 <= len(text) <= MAX_CURSOR_LENGTH or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise invalid
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    created_at, _, order_id = decoded.partition("|")
    if not TIMESTAMP.match(created_at) or not UUID.match(order_id):
        raise invalid
    try:
        return OrderCursor(parse_timestamp(created_at), order_id)
    except ValueError:
        raise invalid from None


def list_orders(read_model: ReadModel, user_id: str, *, limit: int, cursor: str | None = None) -> Page:
    """`user_id` is the caller (a UUID, from the token); `cursor` the previous page's next_cursor."""
    after = decode_cursor(cursor) if cursor is not None else None
    page: OrderPage = read_model.orders_of(user_id, limit, after)
    return Page(page.orders, encode_cursor(page.next) if page.next else None)


def get_order(read_model: ReadModel, user_id: str, order_id: str) -> Order:
    found = read_model.order_of(user_id, order_id)
    if found is None:
        raise NotFound(f"order {order_id}")
    return found


def order_history(store: EventStore, user_id: str, order_id: str) -> list[Recorded]:
    """The order's events from the log, oldest first. Ownership is read from the log too, so the
    history is available as soon as the order is placed, projected or not."""
    events = store.read(order_stream(order_id))
    if not events or not isinstance(events[0].data, m.OrderPlaced) or events[0].data.user_id != user_id:
        raise NotFound(f"order {order_id}")
    return events
