"""The read model's migrations: applied once each, in order, by an idempotent migrator; the
tables they make are the tables ordering/adapters/read_model_tables/rows.py maps."""

from __future__ import annotations

import threading
import uuid

import pytest
from psycopg import sql

from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.migrator import (
    MigrationChanged,
    applied_versions,
    migrate,
    migrations,
)
from tests.support.postgres import connect

pytestmark = pytest.mark.postgres


@pytest.fixture
def schema():
    name = f"mig_{uuid.uuid4().hex[:10]}"
    yield name
    with connect() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def test_migrations_are_numbered_without_gaps_and_use_the_schema_placeholder():
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    for migration in found:
        assert "{schema}." in migration.text
        statements = "\n".join(line for line in migration.text.splitlines() if not line.startswith("--"))
        assert "search_path" not in statements.lower()


def test_migrating_twice_applies_each_file_once(schema):
    with connect() as conn:
        first = migrate(conn, schema)
        again = migrate(conn, schema)
        assert [m.version for m in first] == [m.version for m in migrations()]
        assert again == []
        assert applied_versions(conn, schema) == [m.version for m in migrations()]


def test_the_tables_are_those_the_row_mapping_writes(schema):
    with connect() as conn:
        migrate(conn, schema)
        for table in rows.TABLES:
            columns = conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                [schema, table.name],
            ).fetchall()
            assert tuple(c[0] for c in columns) == table.column_names
            key = conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary"
                " ORDER BY array_position(i.indkey, a.attnum)",
                [f'"{schema}".{table.name}'],
            ).fetchall()
            assert tuple(k[0] for k in key) == table.key
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'orders_by_user'", [schema]
        ).fetchone()[0]
        assert "(user_id, created_at DESC, order_id DESC)" in index


def test_stock_can_never_go_negative(schema):
    with connect() as conn:
        migrate(conn, schema)
        with pytest.raises(Exception, match="stock_quantity"):
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.inventory (head, sku, stock_quantity, reserved, committed, version)"
                    " VALUES ('MUG-01', 'MUG-01', -1, 0, 0, 1)"
                ).format(sql.Identifier(schema))
            )


def test_a_skus_stock_is_the_sum_of_its_shard_rows(schema):
    with connect() as conn:
        migrate(conn, schema)
        insert = sql.SQL(
            "INSERT INTO {}.inventory (head, sku, shard, shards, span, stock_quantity, reserved, committed,"
            " version) VALUES (%s, 'MUG-01', %s, %s, %s, %s, %s, %s, 1)"
        ).format(sql.Identifier(schema))
        conn.execute(insert, ["MUG-01", 0, 4, 4, 3, 1, 2])
        conn.execute(insert, ["MUG-01#2", 2, 1, 1, 5, 0, 1])
        row = conn.execute(
            sql.SQL(
                "SELECT stock_quantity, reserved, committed, shards FROM {}.sku_stock WHERE sku = 'MUG-01'"
            ).format(sql.Identifier(schema))
        ).fetchone()
        assert row == (8, 1, 3, 4)


def test_a_migration_changed_after_it_was_applied_is_refused(schema):
    with connect() as conn:
        migrate(conn, schema)
        conn.execute(
            sql.SQL("UPDATE {}.schema_migrations SET checksum = 'edited' WHERE version = 1").format(
                sql.Identifier(schema)
            )
        )
        with pytest.raises(MigrationChanged, match="append-only"):
            migrate(conn, schema)


def test_two_migrators_at_once_take_turns(schema):
    results, errors = [], []

    def run() -> None:
        try:
            with connect() as conn:
                results.append(migrate(conn, schema))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    # Each migration runs in a transaction of its own under the lock, so the migrators may share
    # the work; each migration is applied once, in order, by whichever got the lock first.
    assert len(results) == 3
    assert sorted(m.version for applied in results for m in applied) == [m.version for m in migrations()]
    for applied in results:
        assert [m.version for m in applied] == sorted(m.version for m in applied)


def test_migrate_needs_an_autocommit_connection(schema):
    import psycopg

    from tests.support.postgres import database_url

    with psycopg.connect(database_url()) as conn, pytest.raises(ValueError, match="autocommit"):
        migrate(conn, schema)
