"""The live read model in Postgres (tables in read_model_tables/migrations, rows in its rows.py).

Every name is schema-qualified, never found through search_path, so that replay can rename
schemas under running queries. `changing` opens its transaction with SELECT ... FOR UPDATE
on the aggregate's main table: besides locking the row, that takes the table lock that a
replay's swap waits for (see postgres_rebuilds), so a change is wholly before the swap or
wholly after it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from ordering.adapters.postgres_connection import PostgresConnection
from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.rows import CHILD_TABLES, MAIN_TABLE, ORDER_ITEMS, ORDERS, Table
from ordering.domain.order import Order
from ordering.domain.streams import ORDER, SKU, USER, order_stream, split_stream
from ordering.ports.read_model import (
    UNFINISHED,
    Aggregate,
    Change,
    OrderCursor,
    OrderPage,
    ParkedEvent,
    ReadModel,
    VersionPage,
    stream_of,
)

DEFAULT_SCHEMA = "read_model"


def unfinished_orders_query(schema: str, after: bool) -> sql.Composed:
    """`unfinished_orders`' query (parameters: updated before, [after,] limit). The states are
    literals, not a parameter, so that the planner sees migration 006's partial index predicate."""
    return sql.SQL(
        "SELECT order_id, version FROM {}.{} WHERE status IN ({}) AND updated_at < %s{}"
        " ORDER BY order_id LIMIT %s"
    ).format(
        sql.Identifier(schema),
        sql.Identifier(ORDERS.name),
        sql.SQL(", ").join(sql.Literal(status.value) for status in UNFINISHED),
        sql.SQL(" AND order_id > %s") if after else sql.SQL(""),
    )


def _table(schema: str, table: Table) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table.name))


def _columns(table: Table) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names)


def select_state(conn: psycopg.Connection, schema: str, stream: str, *, lock: bool) -> Aggregate | None:
    """The aggregate's state from its rows; `lock` takes its row (and the table lock) until commit."""
    kind, key = split_stream(stream)
    main = MAIN_TABLE[kind]
    query = sql.SQL("SELECT {} FROM {} WHERE {} = %s" + (" FOR UPDATE" if lock else "")).format(
        _columns(main), _table(schema, main), sql.Identifier(main.key[0])
    )
    row = conn.execute(query, [key]).fetchone()
    if row is None:
        return None
    if kind == ORDER:
        items = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE order_id = %s ORDER BY line_no").format(
                _columns(ORDER_ITEMS), _table(schema, ORDER_ITEMS)
            ),
            [key],
        ).fetchall()
        return rows.order_from_rows(row, items)
    if kind == SKU:
        return rows.inventory_from_row(row)
    if kind == USER:
        return rows.user_from_row(row)
    raise ValueError(f"no table holds {stream}")


def write_state(conn: psycopg.Connection, schema: str, before: Aggregate | None, after: Aggregate) -> bool:
    """Write `after` over `before` (what the caller read, locked). The main row is written only if
    the stored version is older, so a write can never move an aggregate back. Whether it wrote."""
    kind, _ = split_stream(stream_of(after))
    main = MAIN_TABLE[kind]
    new_rows = rows.rows_of(after)
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name))
        for name in main.column_names
        if name not in main.key
    )
    upsert = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({key}) DO UPDATE SET {updates}"
        " WHERE {name}.version < EXCLUDED.version"
    ).format(
        table=_table(schema, main),
        columns=_columns(main),
        values=sql.SQL(", ").join(sql.Placeholder() * len(main.columns)),
        key=sql.SQL(", ").join(map(sql.Identifier, main.key)),
        updates=updates,
        name=sql.Identifier(main.name),
    )
    if conn.execute(upsert, new_rows[main.name][0]).rowcount == 0:
        return False
    old_rows = rows.rows_of(before) if before is not None else {}
    for child in CHILD_TABLES[kind]:
        if old_rows.get(child.name) == new_rows[child.name]:
            continue
        parent_key = new_rows[main.name][0][0]
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                _table(schema, child), sql.Identifier(child.key[0])
            ),
            [parent_key],
        )
        _insert_many(conn, schema, child, new_rows[child.name])
    return True


def park_events(conn: psycopg.Connection, schema: str, events: Iterable[ParkedEvent]) -> None:
    """Insert or update parked events (the latest error wins)."""
    upsert = sql.SQL(
        "INSERT INTO {}.parked_events (stream, version, event_id, error) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (stream, version) DO UPDATE SET error = EXCLUDED.error, parked_at = now()"
    ).format(sql.Identifier(schema))
    with conn.cursor() as cursor:
        cursor.executemany(upsert, [(e.stream, e.version, e.event_id, e.error) for e in events])


def parked_events(conn: psycopg.Connection, schema: str) -> list[ParkedEvent]:
    query = sql.SQL(
        "SELECT stream, version, event_id, error FROM {}.parked_events ORDER BY stream, version"
    ).format(sql.Identifier(schema))
    return [ParkedEvent(*row) for row in conn.execute(query).fetchall()]


def _insert_many(
    conn: psycopg.Connection, schema: str, table: Table, table_rows: Sequence[Sequence[Any]]
) -> None:
    if not table_rows:
        return
    insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        _table(schema, table), _columns(table), sql.SQL(", ").join(sql.Placeholder() * len(table.columns))
    )
    with conn.cursor() as cursor:
        cursor.executemany(insert, table_rows)


class PostgresReadModel(ReadModel):
    def __init__(self, db: PostgresConnection, schema: str = DEFAULT_SCHEMA) -> None:
        self._db, self.schema = db, schema

    @contextlib.contextmanager
    def changing(self, stream: str) -> Iterator[Change]:
        with self._db.transaction() as conn:
            change = Change(select_state(conn, self.schema, stream, lock=True))
            yield change
            if change.saved is not None:
                if stream_of(change.saved) != stream:
                    raise ValueError(f"a change of {stream} cannot save {stream_of(change.saved)}")
                write_state(conn, self.schema, change.current, change.saved)

    def get(self, stream: str) -> Aggregate | None:
        return self._db.read(lambda conn: select_state(conn, self.schema, stream, lock=False))

    def orders_of(self, user_id: str, limit: int, after: OrderCursor | None = None) -> OrderPage:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        keyset = sql.SQL("")
        params: list[Any] = [user_id]
        if after is not None:
            keyset = sql.SQL(" AND (created_at, order_id) < (%s, %s)")
            params += [after.created_at, after.order_id]
        query = sql.SQL(
            "SELECT {} FROM {} WHERE user_id = %s{} ORDER BY created_at DESC, order_id DESC LIMIT %s"
        ).format(_columns(ORDERS), _table(self.schema, ORDERS), keyset)
        items_query = sql.SQL(
            "SELECT {} FROM {} WHERE order_id = ANY(%s::uuid[]) ORDER BY order_id, line_no"
        ).format(_columns(ORDER_ITEMS), _table(self.schema, ORDER_ITEMS))

        def read(conn: psycopg.Connection) -> list[Order]:
            found = conn.execute(query, [*params, limit + 1]).fetchall()
            ids = [str(row[0]) for row in found]
            items: dict[str, list[tuple[Any, ...]]] = {}
            for item in conn.execute(items_query, [ids]).fetchall() if ids else []:
                items.setdefault(str(item[0]), []).append(item)
            return [rows.order_from_rows(row, items.get(str(row[0]), [])) for row in found]

        orders = self._db.read(read)
        if len(orders) <= limit:
            return OrderPage(orders, None)
        last = orders[limit - 1]
        return OrderPage(orders[:limit], OrderCursor(last.created_at, last.id))

    def order_versions(self, updated_since: datetime, limit: int) -> dict[str, int]:
        query = sql.SQL(
            "SELECT order_id, version FROM {} WHERE updated_at >= %s ORDER BY updated_at DESC LIMIT %s"
        ).format(_table(self.schema, ORDERS))
        found = self._db.read(lambda conn: conn.execute(query, [updated_since, limit]).fetchall())
        return {order_stream(str(order_id)): version for order_id, version in found}

    def unfinished_orders(
        self, updated_before: datetime, limit: int, after: str | None = None
    ) -> VersionPage:
        query = unfinished_orders_query(self.schema, after is not None)
        params: list[Any] = [updated_before, *([] if after is None else [after]), limit + 1]
        found = self._db.read(lambda conn: conn.execute(query, params).fetchall())
        page = found[:limit]
        return VersionPage(
            {order_stream(str(order_id)): version for order_id, version in page},
            str(page[-1][0]) if len(found) > limit else None,
        )

    def sweep_position(self) -> str | None:
        query = sql.SQL("SELECT after_order FROM {}.reconcile_sweep").format(sql.Identifier(self.schema))
        found = self._db.read(lambda conn: conn.execute(query).fetchone())
        return None if found is None or found[0] is None else str(found[0])

    def save_sweep_position(self, after: str | None) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.reconcile_sweep (after_order) VALUES (%s)"
                    " ON CONFLICT (singleton) DO UPDATE SET after_order = EXCLUDED.after_order"
                ).format(sql.Identifier(self.schema)),
                [after],
            )

    def park(self, event: ParkedEvent) -> None:
        with self._db.transaction() as conn:
            park_events(conn, self.schema, [event])

    def parked(self) -> list[ParkedEvent]:
        return self._db.read(lambda conn: parked_events(conn, self.schema))

    def unpark(self, stream: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {}.parked_events WHERE stream = %s").format(sql.Identifier(self.schema)),
                [stream],
            )
