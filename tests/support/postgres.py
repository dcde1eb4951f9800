"""A real PostgreSQL for the tests: embedded (pgserver), one per test process, unless DATABASE_URL.

Each test gets its own schema (a fresh read model), so tests never see each other's rows and
the server is started once. Never the machine's own PostgreSQL: only what
infra/dev/embedded_postgres.postgres_url() gives.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import psycopg
from psycopg import sql

from infra.dev.embedded_postgres import postgres_url
from ordering import bootstrap
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.adapters.postgres_connection import CONNECT_OPTIONS, PostgresConnection
from ordering.adapters.postgres_read_model import PostgresReadModel
from ordering.adapters.postgres_rebuilds import PostgresRebuilds
from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.migrator import migrate
from ordering.ports.read_model import Aggregate
from tests.support.traffic import StreamingEventStore

_server = contextlib.ExitStack()
_url: str | None = None
_lock = threading.Lock()


def database_url() -> str:
    """The server's URL, started on first use and stopped when the test process exits."""
    global _url
    with _lock:
        if _url is None:
            _url = _server.enter_context(postgres_url())
            atexit.register(_server.close)
    return _url


def connect() -> psycopg.Connection:
    """A connection made the way the adapters make theirs (autocommit, never prepared)."""
    return psycopg.connect(database_url(), **CONNECT_OPTIONS)


@dataclass
class Postgres:
    """A migrated, empty read model in its own schema, with the adapters on it."""

    schema: str
    db: PostgresConnection
    read_model: PostgresReadModel
    rebuilds: PostgresRebuilds

    def rows(self, table: str, schema: str | None = None) -> list[tuple]:
        """Every row of a table, as Postgres has it, in key order."""
        with connect() as conn:
            return conn.execute(
                sql.SQL("SELECT * FROM {}.{} ORDER BY 1, 2").format(
                    sql.Identifier(schema or self.schema), sql.Identifier(table)
                )
            ).fetchall()

    def schemas(self) -> set[str]:
        return schemas_of(self.schema)


def schemas_of(live: str) -> set[str]:
    """The schemas that belong to a read model: the live one and any a replay made beside it."""
    with connect() as conn:
        names = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = %s OR starts_with(nspname, %s)",
            [live, live + "_"],
        )
        return {row[0] for row in names.fetchall()}


@contextlib.contextmanager
def fresh_read_model() -> Iterator[Postgres]:
    schema = f"rm_{uuid.uuid4().hex[:10]}"
    with connect() as conn:
        migrate(conn, schema)
    db = PostgresConnection(connect)
    try:
        yield Postgres(schema, db, PostgresReadModel(db, schema), PostgresRebuilds(connect, schema))
    finally:
        db.close()
        with connect() as conn:
            for name in schemas_of(schema):
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@contextlib.contextmanager
def wired_read_model(monkeypatch) -> Iterator[tuple[StreamingEventStore, Postgres]]:
    """A fresh read model and an in-memory log, wired as the functions find them (bootstrap)."""
    with fresh_read_model() as pg:
        monkeypatch.setenv("DATABASE_URL", database_url())
        monkeypatch.setenv("READ_MODEL_SCHEMA", pg.schema)
        bootstrap.reset()
        store = StreamingEventStore(InMemoryEventStore())
        bootstrap.override(event_store=store)
        try:
            yield store, pg
        finally:
            bootstrap.postgres().close()
            bootstrap.reset()


def canonical_rows(schema: str) -> dict[str, dict[str, str]]:
    """Every row of every read-model table as Postgres computes its canonical text, by key."""
    found: dict[str, dict[str, str]] = {}
    with connect() as conn:
        for table in rows.TABLES:
            query = sql.SQL("SELECT {}, {} FROM {}.{} r").format(
                sql.SQL(rows.key_sql(table, "r")),
                sql.SQL(rows.canonical_sql(table, "r")),
                sql.Identifier(schema),
                sql.Identifier(table.name),
            )
            found[table.name] = dict(conn.execute(query).fetchall())
    return found


def expected_rows(states: Iterable[Aggregate]) -> dict[str, dict[str, str]]:
    """The same, computed in Python from domain states (e.g. folded from the log)."""
    found: dict[str, dict[str, str]] = {table.name: {} for table in rows.TABLES}
    by_name = {table.name: table for table in rows.TABLES}
    for state in states:
        for name, table_rows in rows.rows_of(state).items():
            for row in table_rows:
                found[name][rows.key_of(by_name[name], row)] = rows.canonical(by_name[name], row)
    return found
