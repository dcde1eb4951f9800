"""Replay's side of Postgres: build a read model in a new schema, then swap it in atomically.

  begin    <live>_next_<id> migrated like the live schema, plus a replay_segments table
  load     COPY one segment's rows and record the segment, in one transaction
  swap     in ONE transaction: LOCK the live tables IN EXCLUSIVE MODE (queries keep reading;
           the projector's SELECT ... FOR UPDATE waits), re-read from the log every stream the
           live model holds at a later version than the new one, write those into the new
           schema, then rename live -> <live>_old_<id> and next -> live. Commit; drop the old.

A projector transaction that was waiting on the lock resumes after the commit and, because
Postgres looks a relation's name up again when it gets a lock after a concurrent rename,
runs against the new schema. One that held the lock first committed before the swap began,
into the old schema, and is then among the `lagging` streams re-read. Either way nothing is
lost. Each operation opens its own connection: replay workers run in parallel.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator

import psycopg
from psycopg import sql

from ordering.adapters.postgres_connection import Connect
from ordering.adapters.postgres_read_model import park_events, parked_events, select_state, write_state
from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.copy_text import CopyText
from ordering.adapters.read_model_tables.migrator import applied_versions, migrate
from ordering.adapters.read_model_tables.rows import MAIN_TABLE, STREAM_PREFIX, TABLES, Table
from ordering.ports.read_model import (
    Aggregate,
    ParkedEvent,
    ReadModelError,
    ReadModelUnavailable,
    Rebuilds,
    Refresh,
    SegmentLoad,
    TableDifference,
    Tally,
    check_replay_id,
    stream_of,
)

EXAMPLES = 5
MAX_SCHEMA_NAME = 63  # Postgres truncates longer identifiers


class PostgresRebuilds(Rebuilds):
    def __init__(self, connect: Connect, live_schema: str) -> None:
        self._connect, self.live = connect, live_schema

    def schema_of(self, replay_id: str) -> str:
        return self._name(replay_id, "next")

    def _name(self, replay_id: str, role: str) -> str:
        name = f"{self.live}_{role}_{check_replay_id(replay_id)}"
        if len(name) > MAX_SCHEMA_NAME:
            raise ValueError(f"schema name {name} is longer than {MAX_SCHEMA_NAME} characters")
        return name

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            conn = self._connect()
        except psycopg.OperationalError as error:
            raise ReadModelUnavailable(f"cannot connect to the read model: {error}") from error
        try:
            with conn:
                yield conn
        except psycopg.OperationalError as error:
            raise ReadModelUnavailable(str(error)) from error
        except psycopg.Error as error:
            raise ReadModelError(str(error)) from error

    # --- building -------------------------------------------------------------------------------

    def begin(self, replay_id: str) -> None:
        schema = self.schema_of(replay_id)
        with self._connection() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            migrate(conn, schema)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {}.replay_segments (segment integer PRIMARY KEY,"
                    " total_segments integer NOT NULL, events bigint NOT NULL, tally jsonb NOT NULL)"
                ).format(sql.Identifier(schema))
            )

    def load(
        self, replay_id: str, segment: int, total_segments: int, events: int, states: Iterable[Aggregate]
    ) -> SegmentLoad:
        """COPY the rows as text made here (copy_text.py), tallied as they are written, and
        record the segment with that tally, in one transaction."""
        schema = self.schema_of(replay_id)
        by_table: dict[str, list[rows.Row]] = {table.name: [] for table in TABLES}
        for state in states:
            for name, table_rows in rows.rows_of(state).items():
                by_table[name].extend(table_rows)
        with self._connection() as conn, conn.transaction():
            written = [_copy(conn, schema, table, by_table[table.name]) for table in TABLES]  # parents first
            tally = Tally(
                {t.table.name: t.count for t in written}, {t.table.name: t.checksum for t in written}
            )
            loaded = SegmentLoad(segment, total_segments, events, tally)
            conn.execute(
                sql.SQL("INSERT INTO {}.replay_segments VALUES (%s, %s, %s, %s)").format(
                    sql.Identifier(schema)
                ),
                [segment, total_segments, events, json.dumps(loaded.tally.to_json())],
            )
        return loaded

    def recorded(self, replay_id: str) -> list[SegmentLoad]:
        schema = self.schema_of(replay_id)
        with self._connection() as conn:
            found = conn.execute(
                sql.SQL(
                    "SELECT segment, total_segments, events, tally FROM {}.replay_segments ORDER BY segment"
                ).format(sql.Identifier(schema))
            ).fetchall()
        return [SegmentLoad(s, total, events, Tally.from_json(tally)) for s, total, events, tally in found]

    def tally(self, replay_id: str) -> Tally:
        with self._connection() as conn:
            return schema_tally(conn, self.schema_of(replay_id))

    def lagging(self, replay_id: str) -> list[str]:
        with self._connection() as conn:
            return _lagging(conn, self.live, self.schema_of(replay_id))

    def put(self, replay_id: str, states: Iterable[Aggregate]) -> int:
        with self._connection() as conn, conn.transaction():
            return _put(conn, self.schema_of(replay_id), states)

    def differences(self, replay_id: str) -> list[TableDifference]:
        with self._connection() as conn:
            return [_difference(conn, self.live, self.schema_of(replay_id), table) for table in TABLES]

    # --- swapping -------------------------------------------------------------------------------

    def swap(self, replay_id: str, refresh: Refresh) -> list[str]:
        new, old = self.schema_of(replay_id), self._name(replay_id, "old")
        with self._connection() as conn:
            with conn.transaction():
                refreshed: list[str] = []
                if _schema_exists(conn, self.live):
                    conn.execute(
                        sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
                            sql.SQL(", ").join(_table(self.live, table) for table in TABLES)
                        )
                    )
                    if applied_versions(conn, self.live) != applied_versions(conn, new):
                        raise ReadModelError(
                            f"{new} and {self.live} are at different migrations; run the replay again"
                        )
                    refreshed = _lagging(conn, self.live, new)
                    _put(conn, new, refresh(refreshed))
                    conn.execute(
                        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                            sql.Identifier(self.live), sql.Identifier(old)
                        )
                    )
                conn.execute(sql.SQL("DROP TABLE {}.replay_segments").format(sql.Identifier(new)))
                conn.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(new), sql.Identifier(self.live)
                    )
                )
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old)))
        return refreshed

    def discard(self, replay_id: str) -> None:
        with self._connection() as conn:
            for role in ("next", "old"):
                schema = self._name(replay_id, role)
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    def park(self, replay_id: str, events: Iterable[ParkedEvent]) -> None:
        with self._connection() as conn, conn.transaction():
            park_events(conn, self.schema_of(replay_id), events)

    def parked(self, replay_id: str) -> list[ParkedEvent]:
        with self._connection() as conn:
            return parked_events(conn, self.schema_of(replay_id))


# --- SQL ----------------------------------------------------------------------------------------


def _table(schema: str, table: Table) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table.name))


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is not None


def _copy(conn: psycopg.Connection, schema: str, table: Table, table_rows: list[rows.Row]) -> CopyText:
    """COPY the rows in chunks of text; Postgres takes in each chunk while the next is made."""
    text = CopyText(table)
    if not table_rows:
        return text
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        _table(schema, table), sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in text.chunks(table_rows):
            copy.write(chunk)
    return text


def schema_tally(conn: psycopg.Connection, schema: str) -> Tally:
    counts, sums = {}, {}
    for table in TABLES:
        query = sql.SQL("SELECT count(*), coalesce(sum({}), 0) FROM {} r").format(
            sql.SQL(rows.row_hash_sql(rows.canonical_sql(table, "r"))), _table(schema, table)
        )
        count, total = conn.execute(query).fetchone() or (0, 0)
        counts[table.name], sums[table.name] = int(count), int(total)
    return Tally(counts, sums)


def _lagging(conn: psycopg.Connection, live: str, new: str) -> list[str]:
    """Streams whose live row is at a later version than the new one, or has no new one."""
    selects = [
        sql.SQL(
            "SELECT {prefix} || l.{key}::text FROM {live} l LEFT JOIN {new} n ON n.{key} = l.{key}"
            " WHERE n.{key} IS NULL OR n.version < l.version"
        ).format(
            prefix=sql.Literal(STREAM_PREFIX[table.name] + "#"),
            key=sql.Identifier(table.key[0]),
            live=_table(live, table),
            new=_table(new, table),
        )
        for table in MAIN_TABLE.values()
    ]
    return [row[0] for row in conn.execute(sql.SQL(" UNION ALL ").join(selects)).fetchall()]


def _put(conn: psycopg.Connection, schema: str, states: Iterable[Aggregate]) -> int:
    written = 0
    for state in states:
        before = select_state(conn, schema, stream_of(state), lock=True)
        if before is None or before.version < state.version:
            written += write_state(conn, schema, before, state)
    return written


def _difference(conn: psycopg.Connection, live: str, new: str, table: Table) -> TableDifference:
    side = "SELECT {key} AS k, {text} AS c FROM {table} r"
    key, text = sql.SQL(rows.key_sql(table, "r")), sql.SQL(rows.canonical_sql(table, "r"))
    query = sql.SQL(
        "SELECT count(*) FILTER (WHERE n.k IS NULL), count(*) FILTER (WHERE l.k IS NULL),"
        " count(*) FILTER (WHERE l.c <> n.c),"
        " (array_agg(coalesce(l.k, n.k) ORDER BY coalesce(l.k, n.k))"
        "  FILTER (WHERE l.k IS NULL OR n.k IS NULL OR l.c <> n.c))[1:{examples}]"
        " FROM ({live}) l FULL JOIN ({new}) n ON l.k = n.k"
    ).format(
        examples=sql.Literal(EXAMPLES),
        live=sql.SQL(side).format(key=key, text=text, table=_table(live, table)),
        new=sql.SQL(side).format(key=key, text=text, table=_table(new, table)),
    )
    only_live, only_rebuilt, changed, examples = conn.execute(query).fetchone() or (0, 0, 0, None)
    return TableDifference(table.name, only_live, only_rebuilt, changed, tuple(examples or ()))
