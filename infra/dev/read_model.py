"""The local runtime's calls into the read model: migrate it at start, rebuild it after a restore."""

from __future__ import annotations

from typing import Any

from infra.emulator import logs


def migrate(database_url: str) -> list[str]:
    """Apply the read model's SQL migrations to its schema; the names of those applied now."""
    import psycopg

    from ordering.adapters.postgres_read_model import DEFAULT_SCHEMA
    from ordering.adapters.read_model_tables.migrator import migrate as apply

    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as conn:
        applied = apply(conn, DEFAULT_SCHEMA)
    return [f"{migration.version:03d}_{migration.name}" for migration in applied]


class RebuildFailed(RuntimeError):
    pass


def rebuild(functions: Any) -> dict[str, Any]:
    """Replay the log into the read model by invoking the `replay` function, as one would on AWS."""
    # A log holding events that cannot be projected must not keep `orders dev` from starting:
    # they are parked (and logged in the result), as the projector would park them.
    invocation = functions.invoke("replay", {"allow_parked": True}, source="runtime")
    if not invocation.ok:
        raise RebuildFailed(f"the replay function failed: {invocation.error}")
    logs.log("runtime", "replay finished", result=invocation.result)
    return invocation.result
