"""The read model's tables, and THE mapping between their rows and the domain's states.

The live projector (rows -> state, evolve, state -> rows) and replay (fold, state -> rows,
COPY) both go through here, so the two cannot disagree about what a row holds.

A row also has a canonical text: `canonical` computes it in Python from the values we write,
`canonical_sql` makes Postgres compute the same text from the values it stored. Checksums
and differences compare these texts, so a value that changed on its way into the database
(a time zone, a rounding, a truncation) shows up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, cast

from generated import models as m
from ordering.domain.inventory import InventoryItem
from ordering.domain.money import format_money, parse_money
from ordering.domain.order import Order, OrderLine
from ordering.domain.recorded import format_timestamp
from ordering.domain.streams import ORDER, SKU, USER
from ordering.domain.user import User
from ordering.ports.read_model import Aggregate, Tally

Kind = Literal["uuid", "text", "int", "money", "timestamp", "text_list"]
Row = tuple[Any, ...]
NULL_TEXT = "\\N"
SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in the values we store


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _columns(*spec: str) -> tuple[Column, ...]:
    """ "order_id:uuid" -> Column("order_id", "uuid")."""
    return tuple(Column(name, cast(Kind, kind)) for name, kind in (item.split(":") for item in spec))


USERS = Table(
    "users", _columns("user_id:uuid", "email:text", "registered_at:timestamp", "version:int"), ("user_id",)
)
ORDERS = Table(
    "orders",
    _columns(
        "order_id:uuid", "user_id:uuid", "email:text", "status:text", "total:money", "currency:text",
        "client_reference:text", "payment_reference:text", "failure_reason:text", "emails_sent:text_list",
        "created_at:timestamp", "updated_at:timestamp", "version:int",
    ),
    ("order_id",),
)  # fmt: skip
ORDER_ITEMS = Table(
    "order_items",
    _columns(
        "order_id:uuid", "line_no:int", "sku:text", "quantity:int", "unit_price:money", "line_total:money"
    ),
    ("order_id", "line_no"),
)
INVENTORY = Table(
    "inventory",
    _columns(
        "head:text", "stock_quantity:int", "reserved:int", "committed:int", "price:money", "currency:text",
        "version:int", "sku:text", "shard:int", "shards:int", "span:int",
    ),
    ("head",),
)  # fmt: skip

# Parents before children: the order in which rows are loaded and tables are locked.
TABLES: tuple[Table, ...] = (ORDERS, ORDER_ITEMS, INVENTORY, USERS)
# The table holding each kind of aggregate (by stream prefix), and the children it owns.
MAIN_TABLE = {ORDER: ORDERS, SKU: INVENTORY, USER: USERS}
CHILD_TABLES = {ORDER: (ORDER_ITEMS,), SKU: (), USER: ()}
STREAM_PREFIX = {ORDERS.name: ORDER, INVENTORY.name: SKU, USERS.name: USER}


# --- state <-> rows -----------------------------------------------------------------------------


def rows_of(state: Aggregate) -> dict[str, list[Row]]:
    """The rows that hold `state`, by table name."""
    match state:
        case Order():
            order_row = (
                state.id, state.user_id, state.email, state.status.value, state.total, state.currency,
                state.client_reference, state.payment_reference, state.failure_reason,
                sorted(kind.value for kind in state.emails_sent),
                state.created_at, state.updated_at, state.version,
            )  # fmt: skip
            items = [
                (state.id, line_no, line.sku, line.quantity, line.unit_price, line.line_total)
                for line_no, line in enumerate(state.lines)
            ]
            return {ORDERS.name: [order_row], ORDER_ITEMS.name: items}
        case InventoryItem():
            row = (
                state.head, state.available, state.reserved, state.committed, state.price, state.currency,
                state.version, state.sku, state.shard, state.shards, state.span,
            )  # fmt: skip
            return {INVENTORY.name: [row]}
        case User():
            return {USERS.name: [(state.id, state.email, state.registered_at, state.version)]}
    raise TypeError(f"not an aggregate: {state!r}")


def order_from_rows(row: Sequence[Any], items: Iterable[Sequence[Any]]) -> Order:
    (order_id, user_id, email, status, total, currency, client_reference, payment_reference,
     failure_reason, emails_sent, created_at, updated_at, version) = row  # fmt: skip
    lines = tuple(
        OrderLine(sku, int(quantity), _money(unit_price), _money(line_total))
        for _, _, sku, quantity, unit_price, line_total in sorted(items, key=lambda item: item[1])
    )
    return Order(
        id=str(order_id),
        user_id=str(user_id),
        email=email,
        status=m.OrderStatus(status),
        lines=lines,
        total=_money(total),
        currency=currency,
        created_at=_utc(created_at),
        updated_at=_utc(updated_at),
        version=int(version),
        client_reference=client_reference,
        payment_reference=payment_reference,
        failure_reason=failure_reason,
        emails_sent=frozenset(m.EmailKind(kind) for kind in emails_sent),
    )


def inventory_from_row(row: Sequence[Any]) -> InventoryItem:
    _, available, reserved, committed, price, currency, version, sku, shard, shards, span = row
    return InventoryItem(
        sku=sku,
        shard=int(shard),
        shards=int(shards),
        span=int(span),
        available=int(available),
        reserved=int(reserved),
        committed=int(committed),
        price=None if price is None else _money(price),
        currency=currency,
        version=int(version),
    )


def user_from_row(row: Sequence[Any]) -> User:
    user_id, email, registered_at, version = row
    return User(id=str(user_id), email=email, registered_at=_utc(registered_at), version=int(version))


def _money(value: Decimal | str) -> Decimal:
    return parse_money(str(value))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# --- canonical text, checksums ------------------------------------------------------------------


def _timestamp_text(moment: datetime) -> str:
    """format_timestamp, by isoformat: a fifth of strftime's cost, and replay makes one per order
    row twice over. The same text for every aware time from the year 1000 on (strftime does not
    pad the years before); anything else goes to format_timestamp itself."""
    if moment.tzinfo is not None:
        utc = moment.astimezone(UTC)
        if utc.year >= 1000:
            return utc.isoformat(timespec="microseconds")[:-6] + "Z"
    return format_timestamp(moment)


_CANONICAL: dict[Kind, Callable[[Any], str]] = {
    "uuid": lambda value: str(value).lower(),
    "int": lambda value: str(int(value)),
    "money": lambda value: format_money(Decimal(value)),
    "timestamp": _timestamp_text,
    "text_list": ",".join,
    "text": str,
}


def _canonical_value(value: Any, kind: Kind) -> str:
    return NULL_TEXT if value is None else _CANONICAL[kind](value)


def canonical(table: Table, row: Sequence[Any]) -> str:
    """_canonical_value of every value, joined. Replay hashes every row it loads: the column
    kinds' functions are looked up once per table, not matched once per value."""
    return SEPARATOR.join(
        [
            NULL_TEXT if value is None else text_of(value)
            for value, text_of in zip(row, TEXT_OF[table.name], strict=True)
        ]
    )


# Per table, the canonical function of each column, in order (copy_text.py uses them too).
TEXT_OF = {table.name: tuple(_CANONICAL[column.kind] for column in table.columns) for table in TABLES}


_SQL_TEXT: dict[Kind, str] = {
    "uuid": "{}::text",
    "text": "{}",
    "int": "{}::text",
    "money": "{}::text",  # numeric(12, 2) prints exactly two decimals, like format_money
    "timestamp": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "text_list": "array_to_string({}, ',')",
}


def canonical_sql(table: Table, alias: str) -> str:
    """A SQL expression over `alias` (a row of `table`) equal to `canonical` of that row.
    Built only from our own column names, never from input."""
    parts = [
        f"coalesce({_SQL_TEXT[column.kind].format(f'{alias}.{column.name}')}, '{NULL_TEXT}')"
        for column in table.columns
    ]
    return f"concat_ws(chr({ord(SEPARATOR)}), {', '.join(parts)})"


def key_sql(table: Table, alias: str) -> str:
    """The row's key as text, e.g. "<order id>/2" for an order line."""
    return " || '/' || ".join(f"{alias}.{name}::text" for name in table.key)


def key_of(table: Table, row: Sequence[Any]) -> str:
    """The row's key as text: `key_sql` computes the same text in Postgres."""
    index = {column.name: (position, column.kind) for position, column in enumerate(table.columns)}
    return "/".join(_canonical_value(row[index[name][0]], index[name][1]) for name in table.key)


def row_hash(text: str) -> int:
    """60 bits of the text's MD5: `row_hash_sql` computes the same number in Postgres."""
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:15], 16)


def row_hash_sql(expression: str) -> str:
    return f"('x' || substr(md5({expression}), 1, 15))::bit(60)::bigint"


def tally_of(rows: Mapping[str, Iterable[Row]]) -> Tally:
    """The tally of rows by table name (tables missing from `rows` count zero)."""
    by_name = {table.name: table for table in TABLES}
    counts = {t.name: 0 for t in TABLES}
    sums = {t.name: 0 for t in TABLES}
    for name, table_rows in rows.items():
        for row in table_rows:
            counts[name] += 1
            sums[name] += row_hash(canonical(by_name[name], row))
    return Tally(counts, sums)
