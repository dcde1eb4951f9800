"""Reconciliation: how long one run takes over a window of recent orders, i.e. how long past
the schedule's period a lost last event can stay visible.

The log is a reproducible day of business (bench/workload.py), loaded into the single table on
a moto server of its own (with `orders dev`'s patches). The read model in Postgres holds every
stream folded, except that every `behind_every`-th order lacks its last event (its batch went
to the on-failure queue). Then, in the same run, on the same rows reset between them:
  - reconciliation (ordering/services/reconciliation.py): one indexed read of the window, one
    keys-only BatchGetItem per 100 orders, and the behind orders projected again;
  - baseline, the same work without batching: the same window, the log's version of each order
    by its own Query (EventStore.version_of), and the same orders projected again.
Both must heal exactly the same orders. Then the same orders are held behind from their final
event on (OrderFulfilled, OrderCancelled: the rows stay unfinished), and a run whose window holds
only the newest tenth of the orders (as above RECONCILE_MAX_ORDERS orders per window) must still
heal every one whose row is unfinished: its sweep finds them.
Postgres is the embedded server unless DATABASE_URL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql

from bench import stats
from bench.local_aws import moto_process
from bench.replay import TABLE, _copy_rows, _load_table, _log
from bench.report import Report, table
from infra.dev.embedded_postgres import postgres_url
from infra.emulator.aws import client
from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.adapters.dynamodb_table import create_table
from ordering.adapters.postgres_connection import CONNECT_OPTIONS, PostgresConnection
from ordering.adapters.postgres_read_model import PostgresReadModel
from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.migrator import migrate
from ordering.domain.recorded import Recorded
from ordering.domain.streams import ORDER, split_stream
from ordering.ports.event_store import EventStore
from ordering.ports.read_model import UNFINISHED, ReadModel
from ordering.services.projection import fold_stream, project
from ordering.services.reconciliation import reconcile

FINAL = ("OrderFulfilled", "OrderCancelled")


def _held_rows(
    log: list[Recorded], behind_every: int, *, from_final: bool = False
) -> tuple[dict[str, list[rows.Row]], set[str], set[str]]:
    """The read model's rows with every `behind_every`-th order short of its last event (or,
    `from_final`, of its final event and those after it); the orders held behind, and those of
    them whose held row is unfinished."""
    by_stream: dict[str, list[Recorded]] = {}
    for event in log:
        by_stream.setdefault(event.stream, []).append(event)
    found: dict[str, list[rows.Row]] = {t.name: [] for t in rows.TABLES}
    behind: set[str] = set()
    unfinished: set[str] = set()
    orders = 0
    for stream, events in sorted(by_stream.items()):
        events.sort(key=lambda e: e.version)
        if split_stream(stream)[0] == ORDER and len(events) > 1:
            orders += 1
            if orders % behind_every == 0:
                cut = next((i for i, e in enumerate(events) if e.type in FINAL), len(events) - 1)
                events, _ = events[: cut if from_final else -1], behind.add(stream)
        state = fold_stream(stream, events)
        if stream in behind and getattr(state, "status", None) in UNFINISHED:
            unfinished.add(stream)
        if state is not None:
            for name, table_rows in rows.rows_of(state).items():
                found[name].extend(table_rows)
    return found, behind, unfinished


def _per_order(
    read_model: ReadModel, store: EventStore, clock: Callable[[], Any], window: timedelta, limit: int
) -> list[str]:
    """The baseline: the same window, one Query per order for the log's version, the same healing."""
    versions = read_model.order_versions(clock() - window, limit)
    healed = []
    for stream, held in sorted(versions.items()):
        if store.version_of(stream) > held:
            project(read_model, store.read, store.read(stream, held + 1)[-1])
            healed.append(stream)
    return healed


def run(report: Report, *, events: int, behind_every: int) -> Report:
    _, log = _log(events)
    held, behind, _ = _held_rows(log, behind_every)
    held_final, behind_final, behind_unfinished = _held_rows(log, behind_every, from_final=True)
    latest = max(e.occurred_at for e in log)
    window = latest - min(e.occurred_at for e in log) + timedelta(minutes=2)  # every order in it

    def clock() -> Any:
        return latest + timedelta(minutes=1)

    results: dict[str, Any] = {"events": len(log), "behind_every": behind_every}
    with postgres_url() as url, moto_process() as endpoint:

        def connect() -> psycopg.Connection:
            return psycopg.connect(url, **CONNECT_OPTIONS)

        schema = f"bench_rc_{uuid.uuid4().hex[:8]}"
        with connect() as conn:
            migrate(conn, schema)
        db = PostgresConnection(connect)
        try:
            create_table(client("dynamodb", endpoint), TABLE)
            results["load_s"] = round(_load_table(endpoint, log), 1)
            store = DynamoDBEventStore(client("dynamodb", endpoint), TABLE)
            read_model = PostgresReadModel(db, schema)
            limit = len(log)

            _copy_rows(connect, schema, held)
            began = time.perf_counter()
            done = reconcile(read_model, store, window=window, limit=limit, clock=clock)
            batched_s = time.perf_counter() - began

            _copy_rows(connect, schema, held)
            began = time.perf_counter()
            baseline = _per_order(read_model, store, clock, window, limit)
            per_order_s = time.perf_counter() - began
            if set(done.healed) != behind or set(baseline) != behind:
                raise RuntimeError("the two sides healed other orders than the ones held behind")

            capped_window = max(1, done.checked // 10)  # the rest must be the sweep's
            _copy_rows(connect, schema, held_final)
            began = time.perf_counter()
            capped = reconcile(
                read_model, store, window=window, limit=capped_window, clock=clock, settle=timedelta(0)
            )
            capped_s = time.perf_counter() - began
            if not capped.window_full or not behind_unfinished <= set(capped.healed) <= behind_final:
                raise RuntimeError("the capped run's sweep missed an unfinished order held behind")
            results |= {
                "capped_window": capped_window,
                "behind": len(behind_final),
                "behind_unfinished": len(behind_unfinished),
                "capped_unfinished_checked": capped.unfinished_checked,
                "capped_healed": len(capped.healed),
                "capped_run_s": round(capped_s, 3),
            }
            results |= {
                "orders_checked": done.checked,
                "orders_healed": len(done.healed),
                "run_s": round(batched_s, 3),
                "per_order_s": round(per_order_s, 3),
                "ratio_to_per_order": round(stats.ratio(batched_s, per_order_s), 3),
            }
        finally:
            db.close()
            with connect() as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    report.results["reconcile"] = results
    report.add(_markdown(results))
    return report


def _markdown(r: dict[str, Any]) -> str:
    rows_ = [[r["orders_checked"], r["orders_healed"], r["run_s"], "a Query per order", r["per_order_s"],
              r["ratio_to_per_order"]]]  # fmt: skip
    text = "### One reconciliation run over the window\n\n" + table(
        ["orders in the window", "healed", "run s", "baseline", "baseline s", "run s / baseline s"], rows_
    )
    capped = [[r["capped_window"], r["capped_unfinished_checked"], r["behind"], r["behind_unfinished"],
               r["capped_healed"], r["capped_run_s"]]]  # fmt: skip
    text += (
        f"\n\nLog: {r['events']} events on moto (loading them, not a figure, took {r['load_s']} s); "
        f"every {r['behind_every']}th order held without its last event. Both sides healed the same orders."
    )
    heading = ["window (newest orders)", "unfinished orders swept", "orders behind", "of them unfinished",
               "healed", "run s"]  # fmt: skip
    return (
        text
        + "\n\n### A run whose window holds only the newest orders\n\n"
        + table(heading, capped)
        + "\n\nThe same orders held behind from their final event on (OrderFulfilled, OrderCancelled). "
        "Every one whose row was unfinished was healed, by the sweep (the run checks it)."
    )
