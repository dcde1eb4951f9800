"""Replay against a real Postgres: the rebuilt read model equals, row for row, the one the
projector built live; a replay while orders keep coming loses nothing; the swap and the
projector exclude each other; a dry run only reports; a bad load is never swapped in."""

from __future__ import annotations

import ast
import gc
import itertools
import os
import threading
import time
import uuid
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from psycopg import sql

from bench.workload import generate
from cli.main import main as orders_cli
from ordering import bootstrap
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.adapters.memory_read_model import InMemoryReadModel, InMemoryRebuilds
from ordering.adapters.postgres_rebuilds import schema_tally
from ordering.domain.events import InvalidEvent
from ordering.domain.recorded import NewEvent, Recorded
from ordering.ports.event_store import StoreUnavailable
from ordering.ports.read_model import ReadModelError
from ordering.services import replay as replaying
from ordering.services.projection import fold_stream, project
from ordering.services.recording import Recorder
from ordering.services.stamp import Stamp
from streams import projector
from tests.functional.invoke import Context
from tests.support.postgres import (
    canonical_rows,
    connect,
    expected_rows,
    fresh_read_model,
    schemas_of,
    wired_read_model,
)
from tests.support.stream_records import record_of, records_of, stream_event
from tests.support.traffic import Shop, StreamingEventStore

ROOT = Path(__file__).resolve().parents[2]


class Live:
    """A shop whose every event reaches the read model through the projector, as on AWS."""

    def __init__(self, store: StreamingEventStore, pg) -> None:
        self.store, self.pg, self.shop = store, pg, Shop(store)
        self.projected = 0
        self.failures: list = []

    def project_new(self) -> None:
        new = self.store.since(self.projected)
        self.projected += len(new)
        for start in range(0, len(new), 100):
            response = projector.handler(stream_event(records_of(new[start : start + 100])), Context())
            self.failures += response["batchItemFailures"]

    def truth(self) -> dict[str, dict[str, str]]:
        streams = {event.stream for event in self.store.log}
        return expected_rows(fold_stream(stream, self.store.read(stream)) for stream in streams)

    def tally(self):
        with connect() as conn:
            return schema_tally(conn, self.pg.schema)


@pytest.fixture
def live(monkeypatch):
    # `orders replay` runs against the system its environment names (here the wired store and
    # read model), not a running `orders dev`: TABLE_NAME set says so.
    monkeypatch.setenv("TABLE_NAME", "wired-in-this-test")
    with wired_read_model(monkeypatch) as (store, pg):
        live = Live(store, pg)
        live.shop.open_shop()
        yield live


def all_rows(pg):
    return {table: pg.rows(table) for table in ("orders", "order_items", "inventory", "users")}


@pytest.mark.postgres
@pytest.mark.slow
def test_orders_replay_rebuilds_row_for_row_what_the_projector_built(live):
    live.shop.run(250)
    live.project_new()
    assert live.failures == []
    before, tally = all_rows(live.pg), live.tally()
    assert tally.counts["orders"] == 250
    assert canonical_rows(live.pg.schema) == live.truth()

    runner = CliRunner()
    dry = runner.invoke(orders_cli, ["replay", "--dry-run", "--segments", "4"])
    assert dry.exit_code == 0, dry.output
    assert "no differences" in dry.output
    assert schemas_of(live.pg.schema) == {live.pg.schema}

    result = runner.invoke(orders_cli, ["replay", "--segments", "4"])
    assert result.exit_code == 0, result.output
    assert "swapped in" in result.output
    assert live.tally() == tally  # the checksums of every table
    assert all_rows(live.pg) == before  # and every row, value for value
    assert schemas_of(live.pg.schema) == {live.pg.schema}  # the old schema was dropped


@pytest.mark.postgres
@pytest.mark.slow
def test_a_replay_while_orders_keep_arriving_loses_nothing(live):
    live.shop.run(120)
    live.project_new()
    stop = threading.Event()
    errors: list[BaseException] = []

    def traffic() -> None:
        try:
            while not stop.is_set():
                live.shop.place()
                live.shop.advance()
                live.project_new()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    worker = threading.Thread(target=traffic)
    worker.start()
    grew = []
    try:
        for _ in range(3):
            start = len(live.store.log)
            report = replaying.replay(bootstrap.event_store(), bootstrap.rebuilds(), segments=3)
            assert report.swapped
            grew.append(len(live.store.log) - start)
    finally:
        stop.set()
        worker.join(30)
    assert errors == []
    assert all(n > 0 for n in grew)  # events were written during every replay
    assert live.failures == []
    assert canonical_rows(live.pg.schema) == live.truth()
    assert schemas_of(live.pg.schema) == {live.pg.schema}


def wait_for_lock_waits(count: int = 1) -> None:
    """Until `count` sessions wait for a lock (Postgres says so in pg_locks)."""
    deadline = time.monotonic() + 10
    with connect() as conn:
        while conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0] < count:
            if time.monotonic() > deadline:
                raise AssertionError("nobody is waiting for a lock")
            time.sleep(0.02)


@pytest.mark.postgres
def test_a_projector_transaction_under_way_finishes_first_and_is_carried_into_the_swap(live):
    order_id = live.shop.place()
    live.project_new()
    live.shop.advance()  # the order's payment: in the log, not yet in the read model
    stream = f"ORDER#{order_id}"
    log = live.store.read(stream)
    rebuilds, read_model = bootstrap.rebuilds(), bootstrap.read_model()
    rebuilds.begin("race1")
    rebuilds.load("race1", 0, 1, 1, [fold_stream(stream, log[:1])])  # the scan saw v1 only
    entered, release = threading.Event(), threading.Event()
    refreshed: list[list[str]] = []

    def projector_transaction() -> None:
        with read_model.changing(stream) as change:
            entered.set()
            release.wait(10)
            change.save(fold_stream(stream, log[1:], change.current))

    def swap() -> None:
        refreshed.append(rebuilds.swap("race1", replaying.refresher(live.store)))

    threads = [threading.Thread(target=projector_transaction), threading.Thread(target=swap)]
    threads[0].start()
    entered.wait(10)
    threads[1].start()
    wait_for_lock_waits()  # the swap waits for the projector's transaction...
    release.set()
    for thread in threads:
        thread.join(10)
    assert stream in refreshed[0]  # ...then finds the order moved, and re-reads it from the log
    assert read_model.get(stream) == fold_stream(stream, log)


@pytest.mark.postgres
def test_a_projector_transaction_that_waited_for_the_swap_writes_into_the_new_schema(live):
    order_id = live.shop.place()
    live.project_new()
    live.shop.advance()
    stream = f"ORDER#{order_id}"
    log = live.store.read(stream)
    rebuilds, read_model = bootstrap.rebuilds(), bootstrap.read_model()
    rebuilds.begin("race2")
    rebuilds.load("race2", 0, 1, 1, [fold_stream(stream, log[:1])])
    locked, release = threading.Event(), threading.Event()

    def refresh(streams):
        locked.set()  # called inside the swap's transaction, with the live tables locked
        release.wait(10)
        return []

    swapper = threading.Thread(target=lambda: rebuilds.swap("race2", refresh))
    swapper.start()
    locked.wait(10)
    applied = []
    late = threading.Thread(target=lambda: applied.append(project(read_model, live.store.read, log[1])))
    late.start()
    wait_for_lock_waits()  # the projector waits for the swap...
    release.set()
    swapper.join(10)
    late.join(10)
    # ...and then ran against the schema now live (which had v1 from the rebuild), not the old one.
    assert [outcome.value for outcome in applied] == ["applied"]
    assert read_model.get(stream) == fold_stream(stream, log)
    assert schemas_of(live.pg.schema) == {live.pg.schema}


@pytest.mark.postgres
def test_a_dry_run_reports_differences_and_a_replay_repairs_them(live):
    live.shop.run(30)
    live.project_new()
    schema = sql.Identifier(live.pg.schema)
    lost = live.shop.orders[0]
    with connect() as conn:
        conn.execute(
            sql.SQL(
                "UPDATE {}.inventory SET stock_quantity = stock_quantity + 5 WHERE sku = 'MUG-01'"
            ).format(schema)
        )
        conn.execute(sql.SQL("DELETE FROM {}.orders WHERE order_id = %s").format(schema), [lost])
    tampered = all_rows(live.pg)

    report = replaying.replay(bootstrap.event_store(), bootstrap.rebuilds(), segments=2, dry_run=True)
    found = {d.table: d for d in report.differences}
    assert (found["inventory"].changed, found["inventory"].examples) == (1, ("MUG-01",))
    assert (found["orders"].only_rebuilt, found["orders"].examples) == (1, (lost,))
    assert found["order_items"].only_rebuilt >= 1
    assert not found["users"].any
    assert not report.swapped
    assert all_rows(live.pg) == tampered  # nothing changed
    assert schemas_of(live.pg.schema) == {live.pg.schema}

    replaying.replay(bootstrap.event_store(), bootstrap.rebuilds(), segments=2)
    assert canonical_rows(live.pg.schema) == live.truth()


@pytest.mark.postgres
def test_segments_run_as_separate_invocations_of_the_replay_function(live):
    from handlers import replay as replay_function

    live.shop.run(40)
    live.project_new()
    before = all_rows(live.pg)

    def invoke(**event):
        return replay_function.handler(event, Context(function_name="replay"))

    replay_id = invoke(action="prepare")["replay_id"]
    with pytest.raises(replaying.ReplayIncomplete, match=r"\[0, 1, 2\]"):
        invoke(action="finish", replay_id=replay_id, segments=3)
    events = sum(
        invoke(action="segment", replay_id=replay_id, segment=n, segments=3)["events"] for n in range(3)
    )
    assert events == len(live.store.log)
    with pytest.raises(ReadModelError):  # a segment loads once
        invoke(action="segment", replay_id=replay_id, segment=1, segments=3)
    report = invoke(action="finish", replay_id=replay_id, segments=3)
    assert report["swapped"]
    assert report["events"] == events
    assert report["rows"]["orders"] == 40
    assert all_rows(live.pg) == before
    with pytest.raises(ValueError, match="segment"):
        invoke(action="segment", replay_id=replay_id, segments=3)


@pytest.mark.postgres
def test_the_replay_function_runs_a_whole_replay_from_an_empty_event(live):
    from handlers import replay as replay_function

    live.shop.run(10)
    live.project_new()
    report = replay_function.handler({}, Context(function_name="replay"))
    assert report["swapped"]
    assert report["segments"] == 4
    assert canonical_rows(live.pg.schema) == live.truth()


@pytest.mark.postgres
def test_rows_that_do_not_add_up_are_never_swapped_in(live):
    from handlers import replay as replay_function

    live.shop.run(10)
    live.project_new()
    before = all_rows(live.pg)
    rebuilds = bootstrap.rebuilds()
    replaying.prepare(rebuilds, "bad1")
    replaying.load_segment(live.store, rebuilds, "bad1", 0, 1)
    with connect() as conn:  # a value changed on its way in
        conn.execute(
            sql.SQL("UPDATE {}.orders SET total = total + 0.01 WHERE order_id = %s").format(
                sql.Identifier(rebuilds.schema_of("bad1"))
            ),
            [live.shop.orders[0]],
        )
    with pytest.raises(replaying.VerificationFailed, match="orders: loaded 10 rows, stored 10"):
        replaying.finish(live.store, rebuilds, "bad1", 1)
    assert all_rows(live.pg) == before
    assert replay_function.handler({"action": "discard", "replay_id": "bad1"}, Context())["discarded"]
    assert schemas_of(live.pg.schema) == {live.pg.schema}


def test_a_stream_the_scan_saw_with_a_hole_is_read_whole():
    class TornScan(StreamingEventStore):
        """Its scan misses v2 of every order that has a v3: a hole, not just an early end."""

        def scan(self, segment, total_segments):
            for event in self.inner.scan(segment, total_segments):
                torn = event.stream.startswith("ORDER#") and event.version == 2
                if not (torn and len(self.inner.read(event.stream)) >= 3):
                    yield event

    store = TornScan(InMemoryEventStore())
    shop = Shop(store)
    shop.open_shop()
    shop.run(5)
    live = InMemoryReadModel()
    assert any(len(store.read(f"ORDER#{order_id}")) >= 3 for order_id in shop.orders)
    report = replaying.replay(store, InMemoryRebuilds(live), segments=2)
    assert report.swapped
    for stream in {e.stream for e in store.log}:
        assert live.get(stream) == fold_stream(stream, store.read(stream))


def test_replay_cannot_publish_or_mail():
    """Nothing replay runs imports a publisher, a mailer, SQS, EventBridge or SES."""
    forbidden = (
        "ordering.ports.publisher",
        "ordering.ports.mailer",
        "ordering.adapters.sqs_eventbridge_publisher",
        "ordering.adapters.ses_mailer",
        "ordering.services.notifications",
        "streams",
    )
    # What the replay function takes from the composition root, and what that builds.
    for module in ("handlers/replay.py", "cli/main.py"):
        tree = ast.parse((ROOT / module).read_text())
        used = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "bootstrap"
        }
        assert used <= {"event_store", "rebuilds", "settings"}, module
    roots = ["handlers.replay", "ordering.services.replay", "ordering.adapters.postgres_rebuilds"]
    seen, todo = set(), [*roots, "ordering.adapters.dynamodb_event_store"]
    while todo:
        module = todo.pop()
        if module in seen or module == "ordering.bootstrap":  # the root's other builders are not called
            continue
        seen.add(module)
        path = ROOT / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / module.replace(".", "/") / "__init__.py"
        if not path.exists():
            continue  # not ours
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
    assert "ordering.services.projection" in seen  # the walk does reach replay's own imports
    assert [m for m in seen if any(m == f or m.startswith(f + ".") for f in forbidden)] == []
    assert set(_boto3_clients(seen)) == {"'rds'", "'secretsmanager'"}  # an IAM token, a password


def _boto3_clients(modules) -> list[str]:
    """Every boto3 client the modules create, by the service name they pass."""
    found = []
    for module in modules:
        path = ROOT / (module.replace(".", "/") + ".py")
        if path.exists():
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "client" and node.args:
                    found.append(ast.unparse(node.args[0]))
    return found


def record_legacy_nul_order(store, like) -> Recorded:
    """Append, as a log written before the schemas refused control characters would hold it,
    an OrderPlaced whose client reference holds a NUL: stored, but it no longer decodes."""
    placed = store.read(f"ORDER#{like}")[0]
    order_id = str(uuid.uuid4())
    data = placed.data.model_copy(update={"order_id": order_id, "client_reference": "cart\x0042"})
    event = NewEvent(data, str(uuid.uuid4()), placed.occurred_at, placed.correlation_id)
    store.append(f"ORDER#{order_id}", 0, [event])
    with pytest.raises(InvalidEvent):
        store.read(f"ORDER#{order_id}")
    return Recorded(f"ORDER#{order_id}", 1, data, event.event_id, event.occurred_at, event.correlation_id)


@pytest.mark.postgres
def test_replay_reports_the_event_it_cannot_project_and_refuses_to_swap_unless_allowed(live):
    live.shop.run(6)
    legacy = record_legacy_nul_order(live.store, live.shop.orders[0])
    poison = legacy.data.order_id
    live.project_new()
    response = projector.handler(stream_event([record_of(legacy)]), Context())
    assert live.failures == response["batchItemFailures"] == []  # the projector parked it, went on
    assert [(p.stream, p.version) for p in live.pg.read_model.parked()] == [(f"ORDER#{poison}", 1)]
    before = all_rows(live.pg)

    with pytest.raises(replaying.UnprojectableEvents) as refused:
        replaying.replay(live.store, bootstrap.rebuilds(), segments=2)
    assert [(e.stream, e.version) for e in refused.value.events] == [(f"ORDER#{poison}", 1)]
    assert "client_reference" in refused.value.events[0].error
    assert all_rows(live.pg) == before  # the live model is untouched
    assert schemas_of(live.pg.schema) == {live.pg.schema}

    runner = CliRunner()
    result = runner.invoke(orders_cli, ["replay", "--segments", "2"])
    assert result.exit_code != 0
    assert f"ORDER#{poison} v1" in result.output

    dry = replaying.replay(live.store, bootstrap.rebuilds(), segments=2, dry_run=True)
    assert [(e.stream, e.version) for e in dry.unprojectable] == [(f"ORDER#{poison}", 1)]
    assert not dry.differs

    result = runner.invoke(orders_cli, ["replay", "--segments", "2", "--allow-parked"])
    assert result.exit_code == 0, result.output
    assert all_rows(live.pg) == before
    assert [(p.stream, p.version) for p in live.pg.read_model.parked()] == [(f"ORDER#{poison}", 1)]


# --- the result is unchanged; worker processes ----------------------------------------------------

# The tally (rows and checksum per table) that replay built from fixed_log() before it was made
# faster (GC paused, JSON validated by pydantic, cheap copies, worker processes): the same log
# must keep giving the same rows, value for value. The inventory checksum was pinned again when
# its rows gained the shard columns (migration 003: head, shard, shards, span; one row per
# shard); orders, order_items and users kept the checksums of before.
TALLY_BEFORE = {
    "orders": {"rows": "345", "sum": "185841117759826215707"},
    "order_items": {"rows": "692", "sum": "403891215158060521506"},
    "inventory": {"rows": "20", "sum": "12569587376364204953"},
    "users": {"rows": "200", "sum": "107117997674578424114"},
}


def fixed_log() -> StreamingEventStore:
    """bench/workload.py's day of business with fixed ids and clock: the same log on every run."""
    ticks, ids = itertools.count(), itertools.count(1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = Stamp(
        clock=lambda: start + timedelta(milliseconds=next(ticks)),
        new_id=lambda: str(uuid.UUID(int=next(ids))),
    )
    store = StreamingEventStore(InMemoryEventStore())
    assert generate(store, 3000, recorder=Recorder(stamp=stamp)) == 3004
    return store


def test_replay_in_threads_builds_the_same_tally_and_checksum_as_before():
    report = replaying.replay(fixed_log(), InMemoryRebuilds(InMemoryReadModel()), segments=3)
    assert report.events == 3004
    assert report.tally.to_json() == TALLY_BEFORE


@pytest.mark.postgres
def test_replay_in_worker_processes_builds_the_same_tally_and_checksum_as_before():
    store = fixed_log()
    progress = Counted()
    with fresh_read_model() as pg:
        report = replaying.replay(store, pg.rebuilds, segments=3, workers=2, progress=progress)
        assert report.swapped
        assert report.events == 3004
        assert progress.by_segment.keys() == {0, 1, 2}  # the workers' progress reached this process
        assert sum(progress.by_segment.values()) == 3004
        assert report.tally.to_json() == TALLY_BEFORE
        assert live_tally(pg).to_json() == TALLY_BEFORE  # as Postgres computes it from the live rows
        assert canonical_rows(pg.schema) == expected_rows(
            fold_stream(stream, store.read(stream)) for stream in {e.stream for e in store.log}
        )
    assert gc.isenabled()


class Counted(replaying.ReplayProgress):
    def __init__(self) -> None:
        self.by_segment: dict[int, int] = {}

    def scanned(self, segment: int, events: int) -> None:
        self.by_segment[segment] = self.by_segment.get(segment, 0) + events


def live_tally(pg):
    with connect() as conn:
        return schema_tally(conn, pg.schema)


class FailingSegment(StreamingEventStore):
    """Segment 1's scan fails halfway: with an error, or with its worker process dying."""

    def __init__(self, inner, how: str) -> None:
        super().__init__(inner)
        self.how = how

    def scan(self, segment, total_segments):
        for n, event in enumerate(self.inner.scan(segment, total_segments)):
            if segment == 1 and n == 20:
                if self.how == "dies":
                    os._exit(3)
                raise StoreUnavailable("the table throttled the scan")
            yield event


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_failing_segment_process_leaves_the_live_read_model_untouched(live, how):
    live.shop.run(30)
    live.project_new()
    before, tally = all_rows(live.pg), live.tally()
    store = FailingSegment(live.store.inner, how)
    failure = StoreUnavailable if how == "raises" else BrokenProcessPool
    with pytest.raises(failure):
        replaying.replay(store, bootstrap.rebuilds(), segments=3, workers=2)
    assert all_rows(live.pg) == before
    assert live.tally() == tally
    assert schemas_of(live.pg.schema) == {live.pg.schema}  # the rebuilt model was dropped
    assert gc.isenabled()

    report = replaying.replay(live.store, bootstrap.rebuilds(), segments=3, workers=2)  # runs again
    assert report.swapped
    assert all_rows(live.pg) == before


def test_worker_processes_refuse_a_rebuild_held_in_this_process():
    with pytest.raises(ValueError, match="InMemoryRebuilds keeps its models in this process"):
        replaying.replay(fixed_log(), InMemoryRebuilds(InMemoryReadModel()), segments=2, workers=2)


def test_a_worker_loads_its_segments_in_order_and_starts_none_once_told_to_stop():
    store, rebuilds = fixed_log(), InMemoryRebuilds(InMemoryReadModel())
    rebuilds.begin("r1")
    assert [load.segment for load in replaying.load_segments(store, rebuilds, "r1", [2, 0], 3)] == [2, 0]
    asked = []

    def stopped() -> bool:  # another worker failed once the first segment was under way
        asked.append(True)
        return len(asked) > 1

    # Loading segment 1 twice would be refused: the second is never started.
    loads = replaying.load_segments(store, rebuilds, "r1", [1, 1], 3, stopped=stopped)
    assert [load.segment for load in loads] == [1]
    assert sorted(load.segment for load in rebuilds.recorded("r1")) == [0, 1, 2]
    assert sum(load.events for load in rebuilds.recorded("r1")) == 3004
