"""Replay: events per second rebuilding the read model.

The log is a reproducible day of business (bench/workload.py) of `events` events.
  (a) from memory: replay (ordering/services/replay.py: scan, fold, COPY per segment, verify,
      swap) reads the log from the in-memory event store and builds the read model in
      Postgres. Baseline, same run: the same final rows, computed beforehand, COPYed into the
      same tables (emptied first) in one transaction: the ceiling replay cannot pass.
  (b) from the table on moto: the same log, loaded into the single table on a moto server,
      replayed through the DynamoDB event store (parallel scan segments). Beside it, in the
      same run, a raw boto3 parallel scan of the same table: what reading it alone costs.
Each is run with every worker count asked for (0: the segments in threads of this process,
as replay ran before it had worker processes), so a run gives events/s per worker and the
scaling with workers (speed against one worker's, and that over the workers: 1.0 is linear).
The workers' CPU seconds are reported beside their wall time: on a shared machine a worker
does not get a whole core, and events per CPU second say what one core would do. Each replay's
CPU is also split by process (this one, its workers, Postgres's, the other children: moto,
the watchdog; bench/process_cpu.py) beside the machine's busy CPU over the same time, as
cores busy: a replay that keeps every core busy is bound by the cores, and more workers
cannot make it faster on that machine.
Postgres is the embedded server (pgserver) unless DATABASE_URL names one; the CPU of one
that is not ours is not counted.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import boto3
import psycopg
from psycopg import sql

from bench import process_cpu, stats
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


def _scan_segment(endpoint: str, segment: int, segments: int) -> int:
    """One segment of a paginated parallel scan of the table's events, with boto3 alone: items read."""
    dynamodb = client("dynamodb", endpoint)
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=TABLE,
        Segment=segment,
        TotalSegments=segments,
        FilterExpression="begins_with(SK, :ev)",
        ExpressionAttributeValues={":ev": {"S": EVENT_PREFIX}},
    )
    return sum(len(page["Items"]) for page in pages)


def _raw_scan(endpoint: str, segments: int, workers: int) -> tuple[int, float]:
    """The raw parallel scan, its segments on `workers` forked processes as replay runs its own
    (threads for 0, as replay's threads): (items, seconds)."""
    began = time.perf_counter()
    if workers:
        pool: Any = ProcessPoolExecutor(
            min(workers, segments), mp_context=multiprocessing.get_context("fork")
        )
    else:
        pool = ThreadPoolExecutor(segments)
    with pool:
        items = sum(pool.map(_scan_segment, [endpoint] * segments, range(segments), [segments] * segments))
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


# What bench/process_cpu.py calls the parts, with this process as the root of its tree.
_CPU_PARTS = {
    process_cpu.RUNTIME: "this process",
    process_cpu.EXITED: "workers",  # forked, and reaped when their pool closed
    process_cpu.POSTGRES: "postgres",
    process_cpu.OTHER: "other",  # children alive throughout: moto, the watchdog
    process_cpu.MOTO: "other",
}


def _replay(
    store: Any, rebuilds: PostgresRebuilds, segments: int, workers: int, postgres_pid: int | None
) -> tuple[replaying.ReplayReport, float, dict[str, float], float, dict]:
    """One replay: (report, wall seconds, CPU seconds by part, the machine's busy CPU seconds
    over the same time, phases)."""
    phases = _Phases()
    cpu_before = process_cpu.sample(os.getpid(), postgres_pid)
    busy_before = process_cpu.machine_busy()
    began = time.perf_counter()
    report = replaying.replay(store, rebuilds, segments=segments, workers=workers, progress=phases)
    ended = time.perf_counter()
    busy = process_cpu.machine_busy() - busy_before
    spent = process_cpu.breakdown(cpu_before, process_cpu.sample(os.getpid(), postgres_pid), 1)
    cpu = dict.fromkeys(_CPU_PARTS.values(), 0.0)
    for part, seconds in spent["by_part_seconds"].items():
        cpu[_CPU_PARTS[part]] += seconds
    return report, ended - began, {part: round(s, 3) for part, s in cpu.items()}, busy, phases.seconds(ended)


def _log(events: int) -> tuple[InMemoryEventStore, list[Recorded]]:
    store = InMemoryEventStore()
    written = generate(store, events)
    log = _everything(store)
    if written != len(log):
        raise RuntimeError(f"the workload counted {written} events but the log holds {len(log)}")
    return store, log


def _measured(
    store: Any,
    rebuilds: PostgresRebuilds,
    segments: int,
    workers: int,
    expected: rows.Tally,
    connect: Any,
    live: str,
    postgres_pid: int | None,
) -> dict[str, Any]:
    """One replay with `workers` (0: threads), its rows checked against the log's fold."""
    report, seconds, cpu, busy, phases = _replay(store, rebuilds, segments, workers, postgres_pid)
    with connect() as conn:
        built = schema_tally(conn, live)
    if built != expected or report.tally != expected:
        raise RuntimeError(f"replay with {workers} workers built other rows than the log folds to")
    measured: dict[str, Any] = {
        "workers": workers,
        "events": report.events,
        "replay_s": round(seconds, 6),
        "phases_s": phases,
        "replay_events_per_s": round(report.events / seconds),
        "cpu_s": cpu,
        "cpu_total_s": round(sum(cpu.values()), 3),
        "machine_busy_s": round(busy, 3),
        "cores_busy": round(busy / seconds, 2),
    }
    if workers:
        workers_cpu = cpu["workers"]
        measured["events_per_s_per_worker"] = round(report.events / seconds / workers)
        measured["workers_cpu_s"] = workers_cpu
        measured["events_per_worker_cpu_s"] = round(report.events / workers_cpu) if workers_cpu > 0 else None
    return measured


def _scaling(runs: list[dict[str, Any]]) -> None:
    """Each run's speed against one worker's, and that over its workers (1.0: linear)."""
    one = next((r for r in runs if r["workers"] == 1), None)
    for r in runs:
        if one is not None and r["workers"]:
            r["speedup_vs_1_worker"] = round(stats.ratio(one["replay_s"], r["replay_s"]), 3)
            r["efficiency"] = round(r["speedup_vs_1_worker"] / r["workers"], 3)


def run(report: Report, *, events: int, segments: int, table_events: int, workers: list[int]) -> Report:
    """(a) with `events` events; (b) with `table_events` of the same workload (0: skip (b)); each
    with every count of `workers` (0: the segments in threads of this process)."""
    started = time.perf_counter()
    store, log = _log(events)
    generated_in = time.perf_counter() - started
    final = _final_rows(log)
    expected = rows.tally_of(final)
    results: dict[str, Any] = {
        "events": len(log),
        "segments": segments,
        "workers": workers,
        "generated_in_s": round(generated_in, 1),
        "cores": os.cpu_count(),
    }
    with postgres_url() as url:

        def connect() -> psycopg.Connection:
            return psycopg.connect(url, **CONNECT_OPTIONS)

        postgres_pid = process_cpu.postmaster_pid(url)  # None for a server that is not ours
        live = f"bench_rm_{uuid.uuid4().hex[:8]}"
        with connect() as conn:
            migrate(conn, live)
        rebuilds = PostgresRebuilds(connect, live)
        try:
            memory = [
                _measured(store, rebuilds, segments, n, expected, connect, live, postgres_pid)
                for n in workers
            ]
            _scaling(memory)
            copy_seconds = _copy_rows(connect, live, final)
            with connect() as conn:
                copied = schema_tally(conn, live)
            if copied != expected:
                raise RuntimeError(
                    "the COPYed rows differ from the replayed ones: the baseline is not the same work"
                )
            for r in memory:
                r["ratio_to_copy"] = round(stats.ratio(copy_seconds, r["replay_s"]), 3)
            results["memory"] = {
                "rows": dict(copied.counts),
                "copy_s": round(copy_seconds, 6),
                "copy_events_per_s": round(len(log) / copy_seconds),
                "runs": memory,
            }
            if table_events:
                table_log = log if table_events == events else _log(table_events)[1]
                table_final = _final_rows(table_log)
                table_expected = rows.tally_of(table_final)
                # The live model as the projector would have left it for this log: otherwise every
                # stream only the bigger log has is "lagging" and re-read by the catch-up and swap.
                _copy_rows(connect, live, table_final)
                with moto_process() as endpoint:
                    create_table(client("dynamodb", endpoint), TABLE)
                    load_seconds = _load_table(endpoint, table_log)
                    table = []
                    for n in workers:
                        items, scan_seconds = _raw_scan(endpoint, segments, n)
                        table_store = DynamoDBEventStore(client("dynamodb", endpoint), TABLE)
                        measured = _measured(
                            table_store, rebuilds, segments, n, table_expected, connect, live, postgres_pid
                        )
                        if items != measured["events"]:
                            raise RuntimeError(
                                f"the raw scan read {items} items, replay {measured['events']}"
                            )
                        measured.update(
                            raw_scan_s=round(scan_seconds, 6),
                            raw_scan_items_per_s=round(items / scan_seconds),
                            ratio_to_raw_scan=round(stats.ratio(scan_seconds, measured["replay_s"]), 3),
                        )
                        table.append(measured)
                    _scaling(table)
                results["table"] = {"events": len(table_log), "load_s": round(load_seconds, 1), "runs": table}
        finally:
            with connect() as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(live)))
    report.results["replay"] = results
    report.add(_markdown(results))
    return report


def _label(workers: int) -> str:
    return "threads (1 process)" if workers == 0 else f"{workers} worker process{'es' if workers > 1 else ''}"


def _memory_row(x: dict[str, Any]) -> list[Any]:
    extra = [x.get(k, "-") for k in ("events_per_s_per_worker", "events_per_worker_cpu_s")]
    scaled = [x.get(k, "-") for k in ("speedup_vs_1_worker", "efficiency")]
    return [
        _label(x["workers"]),
        x["replay_s"],
        x["replay_events_per_s"],
        *extra,
        *scaled,
        x["ratio_to_copy"],
    ]


def _table_row(x: dict[str, Any]) -> list[Any]:
    scan = [x["raw_scan_s"], x["raw_scan_items_per_s"], x["ratio_to_raw_scan"]]
    per_worker, scaled = x.get("events_per_s_per_worker", "-"), x.get("speedup_vs_1_worker", "-")
    return [_label(x["workers"]), x["replay_s"], x["replay_events_per_s"], per_worker, *scan, scaled]


def _markdown(r: dict[str, Any]) -> str:
    m = r["memory"]
    text = f"### Replay from memory, {r['events']} events, {r['segments']} segments\n\n" + table(
        ["segments on", "seconds", "events per s", "per worker", "per worker CPU-s",
         "speed / 1 worker", "÷ workers", "speed / COPY"],
        [_memory_row(x) for x in m["runs"]],
    )  # fmt: skip
    text += (
        f"\n\nBaseline, same run: COPY of the same rows, {m['copy_s']} s ({m['copy_events_per_s']} events/s)."
        " Rows built: " + ", ".join(f"{name} {count}" for name, count in m["rows"].items()) + "; every"
        " replay's tally (rows and checksum per table) equals the COPYed rows'."
    )
    if "table" in r:
        t = r["table"]
        text += f"\n\n### Replay from the table on moto, {t['events']} events, {r['segments']} segments\n\n"
        text += table(
            ["segments on", "replay s", "events per s", "per worker", "raw scan s", "raw scan items per s",
             "replay / raw scan", "speed / 1 worker"],
            [_table_row(x) for x in t["runs"]],
        )  # fmt: skip
        text += (
            "\n\nThe raw scan is boto3 alone reading the same segments on as many processes (threads for"
            " the threads line), in the same run. Loading the table (BatchWriteItem, not a figure) took"
            f" {t['load_s']} s."
        )
    for label, key in (("(a)", "memory"), ("(b)", "table")):
        for x in r.get(key, {}).get("runs", []):
            spent = ", ".join(f"{name} {seconds} s" for name, seconds in x["phases_s"].items())
            text += f"\n\nWhere {label}'s time went, segments on {_label(x['workers'])}: {spent}."
    return text + _cpu_markdown(r)


def _cpu_markdown(r: dict[str, Any]) -> str:
    """Each replay's CPU by process, and how many of the machine's cores were busy."""
    runs = [
        (label, x)
        for label, key in (("(a)", "memory"), ("(b)", "table"))
        for x in r.get(key, {}).get("runs", [])
    ]
    parts = list(r["memory"]["runs"][0]["cpu_s"])
    headers = [
        "replay",
        *(f"{part} CPU-s" for part in parts),
        "all CPU-s",
        "machine busy CPU-s",
        f"cores busy (of {r['cores']})",
    ]
    rows_ = [
        [
            f"{label} {_label(x['workers'])}",
            *x["cpu_s"].values(),
            x["cpu_total_s"],
            x["machine_busy_s"],
            x["cores_busy"],
        ]
        for label, x in runs
    ]
    return (
        "\n\n### Where the CPU went\n\n"
        + table(headers, rows_)
        + "\n\nCores busy: the machine's busy CPU-seconds over the replay's wall time, other work"
        " included. Near the machine's core count, the replay was bound by the cores: more workers"
        " cannot make it faster on this machine."
    )
