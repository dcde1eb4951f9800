"""Apply the read model's SQL migrations to a schema: each file once, in order, idempotently.

Migrations are the files `migrations/NNN_name.sql`, numbered from 001, append-only: a change
is a new file. Each applied file is recorded, with its checksum, in `<schema>.schema_migrations`;
running again applies only what is new, and a recorded file whose text has since changed is
refused rather than silently diverging from what the database holds.

Each file runs in its own transaction under a transaction-scoped advisory lock, so that two
migrators (two deploys at once) take turns, and no lock or setting outlives the transaction
(RDS Proxy would pin a session that kept one).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

SCHEMA_TOKEN = "{schema}"  # noqa: S105 (a placeholder, not a password)
FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
LOCK_CLASS = 0x0D5E  # the advisory lock's first key: "the read model's migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def sql_for(self, schema: str) -> str:
        """The file's SQL with every `{schema}` replaced by the schema, quoted as an identifier."""
        return self.text.replace(SCHEMA_TOKEN, '"' + schema.replace('"', '""') + '"')


class MigrationChanged(RuntimeError):
    def __init__(self, schema: str, migration: Migration) -> None:
        super().__init__(
            f"{migration.version:03d}_{migration.name}.sql was applied to {schema} with different "
            "text; migrations are append-only: put the change in a new file"
        )


def migrations() -> list[Migration]:
    """Every migration shipped with the code, in version order."""
    found = []
    for entry in resources.files("ordering.adapters.read_model_tables").joinpath("migrations").iterdir():
        match = FILE_NAME.match(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise ValueError(f"migration {entry.name} is not named NNN_name.sql")
            continue
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"migration versions must run 1, 2, 3... without gaps; found {versions}")
    return found


def migrate(conn: psycopg.Connection, schema: str) -> list[Migration]:
    """Bring `schema` (created if missing) up to date; the migrations applied now. `conn` must be
    in autocommit mode, so that each `transaction()` below is a real transaction."""
    if not conn.autocommit:
        raise ValueError("migrate() needs an autocommit connection")
    applied = []
    for migration in migrations():
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_CLASS, schema])
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                ).format(sql.Identifier(schema))
            )
            found = conn.execute(
                sql.SQL("SELECT checksum FROM {}.schema_migrations WHERE version = %s").format(
                    sql.Identifier(schema)
                ),
                [migration.version],
            ).fetchone()
            if found is not None:
                if found[0] != migration.checksum:
                    raise MigrationChanged(schema, migration)
                continue
            conn.execute(migration.sql_for(schema).encode())
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"
                ).format(sql.Identifier(schema)),
                [migration.version, migration.name, migration.checksum],
            )
            applied.append(migration)
    return applied


def applied_versions(conn: psycopg.Connection, schema: str) -> list[int]:
    """The versions recorded in `schema`, in order; [] when it was never migrated."""
    exists = conn.execute(
        "SELECT 1 FROM information_schema.tables"
        " WHERE table_schema = %s AND table_name = 'schema_migrations'",
        [schema],
    ).fetchone()
    if exists is None:
        return []
    rows = conn.execute(
        sql.SQL("SELECT version FROM {}.schema_migrations ORDER BY version").format(sql.Identifier(schema))
    ).fetchall()
    return [row[0] for row in rows]
