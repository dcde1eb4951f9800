"""Replay: events per second rebuilding the read model.

The log is a reproducible day of business (bench/workload.py) of `events` events.
  (a) from memory: replay (ordering/services/replay.py: scan, fold, COPY per segment, verify,
      swap) reads the log from the in-memory event store and builds the read model in
      Postgres. Baseline, same run: the same final rows, computed beforehand, COPYed into the
      same tables (emptied first) in one transaction: the ceiling replay cannot pass.
  (b) from the table on moto: the same log, loaded into the single table on a moto server,
      replayed through the DynamoDB event store (parallel scan segments). Beside it, in the
      same run, a raw boto3 parallel scan of the same table: what reading it alone costs.
Postgres is the embedded server (pgserver) unless DATABASE_URL names one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import psycopg
from psycopg import sql

from bench import stats
from bench.local_aws import moto_process
from bench.report import Report, table
from bench.workload import generate
from infra.dev.embedded_postgres import postgres_url
from infra.emulator.aws import client
from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.adapters.dynamodb_table import EVENT_PREFIX, create_table
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.adapters.postgres_connection import CONNECT_OPTIONS
from ordering.adapters.postgres_rebuilds import PostgresRebuilds, schema_tally
from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.migrator import migrate
from ordering.adapters.table_items import event_item
from ordering.domain.recorded import NewEvent, Recorded
from ordering.services import replay as replaying
from ordering.services.projection import fold_stream

TABLE = "orders-replay"


def _everything(store: InMemoryEventStore) -> list[Recorded]:
    return list(store.scan(0, 1))


def _final_rows(events: list[Recorded]) -> dict[str, list[rows.Row]]:
    """The rows the read model must hold: each stream folded, turned into rows (not timed)."""
    by_stream: dict[str, list[Recorded]] = {}
    for event in events:
        by_stream.setdefault(event.stream, []).append(event)
    found: dict[str, list[rows.Row]] = {t.name: [] for t in rows.TABLES}
    for stream, stream_events in by_stream.items():
        state = fold_stream(stream, sorted(stream_events, key=lambda e: e.version))
        if state is not None:
            for name, table_rows in rows.rows_of(state).items():
                found[name].extend(table_rows)
    return found


def _copy_rows(
    connect: Callable[[], psycopg.Connection], schema: str, final: dict[str, list[rows.Row]]
) -> float:
    """Empty the schema's tables, then COPY the rows in, in one transaction; the seconds COPY took."""
    with connect() as conn, conn.transaction():
        names = sql.SQL(", ").join(
            sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(t.name)) for t in rows.TABLES
        )
        conn.execute(sql.SQL("TRUNCATE {}").format(names))
        began = time.perf_counter()
        for t in rows.TABLES:  # parents first, as replay loads them
            statement = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
                sql.Identifier(schema),
                sql.Identifier(t.name),
                sql.SQL(", ").join(map(sql.Identifier, t.column_names)),
            )
            with conn.cursor() as cursor, cursor.copy(statement) as copy:
                for row in final[t.name]:
                    copy.write_row(row)
        return time.perf_counter() - began


def _load_table(endpoint: str, events: list[Recorded]) -> float:
    """Put every event into the table on moto, as the event store writes them (not part of a figure)."""
    began = time.perf_counter()
    resource = boto3.session.Session().resource("dynamodb", endpoint_url=endpoint, region_name="eu-west-1")
    with resource.Table(TABLE).batch_writer() as writer:
        for e in events:
            item = event_item(
                e.stream,
                e.version,
                NewEvent(e.data, e.event_id, e.occurred_at, e.correlation_id, e.causation_id),
            )
            writer.put_item(Item={k: v for k, v in item.items() if v is not None})
    return time.perf_counter() - began


def _raw_scan(endpoint: str, segments: int) -> tuple[int, float]:
    """A parallel paginated scan of the table's events with boto3 alone: (items, seconds)."""

    def scan(segment: int) -> int:
        dynamodb = client("dynamodb", endpoint)
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=TABLE,
            Segment=segment,
            TotalSegments=segments,
            FilterExpression="begins_with(SK, :ev)",
            ExpressionAttributeValues={":ev": {"S": EVENT_PREFIX}},
        )
        return sum(len(page["Items"]) for page in pages)

    began = time.perf_counter()
    with ThreadPoolExecutor(segments) as pool:
        items = sum(pool.map(scan, range(segments)))
    return items, time.perf_counter() - began


class _Phases(replaying.ReplayProgress):
    """When each of replay's phases began, to say where the time went."""

    def __init__(self) -> None:
        self.began: list[tuple[str, float]] = []

    def phase(self, name: str) -> None:
        self.began.append((name, time.perf_counter()))

    def seconds(self, ended: float) -> dict[str, float]:
        ends = [at for _, at in self.began[1:]] + [ended]
        return {name: round(end - at, 3) for (name, at), end in zip(self.began, ends, strict=True)}


def _replay(
    store: Any, rebuilds: PostgresRebuilds, segments: int
) -> tuple[replaying.ReplayReport, float, dict]:
    phases = _Phases()
    began = time.perf_counter()
    report = replaying.replay(store, rebuilds, segments=segments, progress=phases)
    ended = time.perf_counter()
    return report, ended - began, phases.seconds(ended)


def _log(events: int) -> tuple[InMemoryEventStore, list[Recorded]]:
    store = InMemoryEventStore()
    written = generate(store, events)
    log = _everything(store)
    if written != len(log):
        raise RuntimeError(f"the workload counted {written} events but the log holds {len(log)}")
    return store, log


def run(report: Report, *, events: int, segments: int, table_events: int) -> Report:
    """(a) with `events` events; (b) with `table_events` of the same workload (0: skip (b))."""
    started = time.perf_counter()
    store, log = _log(events)
    generated_in = time.perf_counter() - started
    final = _final_rows(log)
    results: dict[str, Any] = {
        "events": len(log),
        "segments": segments,
        "generated_in_s": round(generated_in, 1),
    }
    with postgres_url() as url:

        def connect() -> psycopg.Connection:
            return psycopg.connect(url, **CONNECT_OPTIONS)

        live = f"bench_rm_{uuid.uuid4().hex[:8]}"
        with connect() as conn:
            migrate(conn, live)
        rebuilds = PostgresRebuilds(connect, live)
        try:
            memory_report, memory_seconds, memory_phases = _replay(store, rebuilds, segments)
            with connect() as conn:
                replayed = schema_tally(conn, live)
            copy_seconds = _copy_rows(connect, live, final)
            with connect() as conn:
                copied = schema_tally(conn, live)
            if copied != replayed or copied != rows.tally_of(final):
                raise RuntimeError(
                    "the COPYed rows differ from the replayed ones: the baseline is not the same work"
                )
            results["memory"] = {
                "events": memory_report.events,
                "rows": dict(replayed.counts),
                "replay_s": round(memory_seconds, 6),
                "phases_s": memory_phases,
                "replay_events_per_s": round(memory_report.events / memory_seconds),
                "copy_s": round(copy_seconds, 6),
                "copy_events_per_s": round(len(log) / copy_seconds),
                "ratio_to_copy": round(stats.ratio(copy_seconds, memory_seconds), 3),
            }
            if table_events:
                if table_events == events:
                    table_log = log
                else:  # the same workload, smaller: the same seed writes the same first orders
                    table_log = _log(table_events)[1]
                    copy_seconds = _copy_rows(connect, live, _final_rows(table_log))
                with moto_process() as endpoint:
                    create_table(client("dynamodb", endpoint), TABLE)
                    load_seconds = _load_table(endpoint, table_log)
                    items, scan_seconds = _raw_scan(endpoint, segments)
                    table_store = DynamoDBEventStore(client("dynamodb", endpoint), TABLE)
                    table_report, table_seconds, table_phases = _replay(table_store, rebuilds, segments)
                with connect() as conn:
                    from_moto = schema_tally(conn, live)
                if from_moto != rows.tally_of(_final_rows(table_log)):
                    raise RuntimeError("replay from the table built other rows than its log folds to")
                results["table"] = {
                    "events": table_report.events,
                    "load_s": round(load_seconds, 1),
                    "replay_s": round(table_seconds, 6),
                    "phases_s": table_phases,
                    "replay_events_per_s": round(table_report.events / table_seconds),
                    "raw_scan_items": items,
                    "raw_scan_s": round(scan_seconds, 6),
                    "raw_scan_items_per_s": round(items / scan_seconds),
                    "ratio_to_raw_scan": round(stats.ratio(scan_seconds, table_seconds), 3),
                    "copy_s": round(copy_seconds, 6),
                    "ratio_to_copy": round(stats.ratio(copy_seconds, table_seconds), 3),
                }
        finally:
            with connect() as conn:
                for name in (live,):
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    report.results["replay"] = results
    report.add(_markdown(results))
    return report


def _markdown(r: dict[str, Any]) -> str:
    m = r["memory"]
    rows_ = [
        ["(a) replay from memory", m["events"], m["replay_s"], m["replay_events_per_s"],
         "COPY of the same rows", m["copy_s"], m["copy_events_per_s"], m["ratio_to_copy"]],
    ]  # fmt: skip
    if "table" in r:
        t = r["table"]
        rows_.append(
            ["(b) replay from the table on moto", t["events"], t["replay_s"], t["replay_events_per_s"],
             "raw boto3 parallel scan", t["raw_scan_s"], t["raw_scan_items_per_s"], t["ratio_to_raw_scan"]]
        )  # fmt: skip
    text = f"### Replay, {r['segments']} segments\n\n" + table(
        [
            "replay",
            "events",
            "seconds",
            "events per s",
            "baseline",
            "baseline s",
            "baseline per s",
            "speed / baseline",
        ],
        rows_,
    )
    rows_line = ", ".join(f"{name} {count}" for name, count in m["rows"].items())
    for label, measured in (("(a)", m), ("(b)", r.get("table"))):
        if measured is not None:
            spent = ", ".join(f"{name} {seconds} s" for name, seconds in measured["phases_s"].items())
            text += f"\n\nWhere {label}'s time went, by replay phase: {spent}."
    text += f"\n\nRows built: {rows_line}. The COPYed rows' tally equals the replayed ones'."
    if "table" in r:
        text += (
            f" Replay from moto against a COPY of its own rows (same run): {r['table']['ratio_to_copy']}."
            f" Loading the table (BatchWriteItem, not a figure) took {r['table']['load_s']} s."
        )
    return text
