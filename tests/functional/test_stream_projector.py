"""streams/projector.py, driven with DynamoDB Streams events as Lambda delivers them, against a
real Postgres read model, through the production wiring (ordering.bootstrap from the environment)."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import botocore.session
import psycopg
import pytest

from ordering import bootstrap
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.projection import fold_stream
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from streams import projector
from tests.functional.invoke import Context
from tests.support.postgres import canonical_rows, database_url, expected_rows, fresh_read_model
from tests.support.stream_records import poisoned, record_of, records_of, sequence_of, stream_event
from tests.support.traffic import Shop, StreamingEventStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(monkeypatch):
    """A fresh read model, which the projector finds through DATABASE_URL and READ_MODEL_SCHEMA."""
    with fresh_read_model() as pg:
        monkeypatch.setenv("DATABASE_URL", database_url())
        monkeypatch.setenv("READ_MODEL_SCHEMA", pg.schema)
        bootstrap.reset()
        yield pg
        bootstrap.postgres().close()
        bootstrap.reset()


@pytest.fixture
def shop(pg):
    store = StreamingEventStore(InMemoryEventStore())
    bootstrap.override(event_store=store)
    shop = Shop(store)
    shop.open_shop()
    return shop


def deliver(records) -> list[str]:
    """Invoke the projector with one batch; the sequence numbers it reported failed."""
    response = projector.handler(stream_event(records), Context(function_name="projector"))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def log_truth(store) -> dict[str, dict[str, str]]:
    """The rows the read model must hold: every stream of the log, folded."""
    streams = {event.stream for event in store.log}
    return expected_rows(fold_stream(stream, store.read(stream)) for stream in streams)


def test_records_delivered_two_or_three_times_in_reordered_batches_end_in_the_rows_of_the_log(pg, shop):
    shop.run(120)
    records = records_of(shop.store.log)
    batches = [records[start : start + 25] for start in range(0, len(records), 25)]
    rng = random.Random(3)
    deliveries = [batch for batch in batches for _ in range(rng.randint(2, 3))]
    rng.shuffle(deliveries)
    for batch in deliveries:
        assert deliver(batch) == []
    assert canonical_rows(pg.schema) == log_truth(shop.store)


def test_in_order_and_in_chaos_give_identical_rows(pg, shop):
    shop.run(40)
    records = records_of(shop.store.log)
    assert deliver(records) == []
    in_order = pg.rows("orders"), pg.rows("order_items"), pg.rows("inventory"), pg.rows("users")
    with fresh_read_model() as other:
        bootstrap.override(read_model=other.read_model)
        rng = random.Random(11)
        chaos = [r for r in records for _ in range(rng.randint(1, 3))]
        rng.shuffle(chaos)
        for start in range(0, len(chaos), 10):
            assert deliver(chaos[start : start + 10]) == []
        assert (
            other.rows("orders"),
            other.rows("order_items"),
            other.rows("inventory"),
            other.rows("users"),
        ) == (in_order)


@pytest.mark.moto
def test_a_gap_is_healed_from_the_table(pg, aws):
    store = bootstrap.event_store()  # the DynamoDB adapter on moto's table, as in Lambda
    restock(store, "MUG-01", 5, Decimal("7.50"), "EUR", Cause("seed"))
    order_id = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    user_id = "5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a"
    place_order(
        store, PlaceOrder(order_id, user_id, "ada@example.com", (RequestedLine("MUG-01", 2),)), Cause("c")
    )
    record_payment(store, FakePaymentGateway(), order_id, Cause("c"))
    settle_order(store, order_id, True, Cause("c"))
    v1, v2, v3 = store.read(f"ORDER#{order_id}")

    assert deliver([record_of(v1)]) == []
    assert deliver([record_of(v3)]) == []  # v2 has not arrived: read from the table
    read_model = bootstrap.read_model()
    assert read_model.get(v1.stream) == fold_stream(v1.stream, [v1, v2, v3])
    assert deliver([record_of(v2)]) == []  # arrives late: skipped
    assert read_model.get(v1.stream).version == 3
    sku = store.read("SKU#MUG-01")
    assert deliver([record_of(sku[-1])]) == []  # the SKU's whole history, healed at once
    assert read_model.get("SKU#MUG-01") == fold_stream("SKU#MUG-01", sku)


@pytest.mark.moto
def test_a_batch_without_a_gap_builds_no_aws_client_and_the_first_gap_builds_one(pg, aws, monkeypatch):
    store = bootstrap.event_store()
    restock(store, "MUG-01", 5, Decimal("7.50"), "EUR", Cause("seed"))
    order_id = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    user_id = "5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a"
    place_order(
        store, PlaceOrder(order_id, user_id, "ada@example.com", (RequestedLine("MUG-01", 2),)), Cause("c")
    )
    record_payment(store, FakePaymentGateway(), order_id, Cause("c"))
    settle_order(store, order_id, True, Cause("c"))
    v1, v2, v3 = store.read(f"ORDER#{order_id}")
    bootstrap.reset()  # a new container: no session, no client yet
    created: list[str] = []
    create_client = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        created.append(service_name)
        return create_client(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)

    assert deliver([record_of(v1)]) == []
    assert created == []  # applied from the record alone: the log was not read
    assert deliver([record_of(v3)]) == []  # v2 missing: read from the table, on a client built now
    assert created == ["dynamodb"]
    assert bootstrap.read_model().get(v1.stream) == fold_stream(v1.stream, [v1, v2, v3])


def parked_keys() -> list[tuple[str, int]]:
    return [(event.stream, event.version) for event in bootstrap.read_model().parked()]


def test_a_poison_record_is_parked_with_the_later_records_of_its_aggregate_and_the_rest_goes_on(pg, shop):
    a = shop.place(shop.users[0])
    b = shop.place(shop.users[1])
    shop.advance()
    shop.advance()
    shop.advance()
    log = shop.store.log
    a_events = [e for e in log if e.stream == f"ORDER#{a}"]
    b_events = [e for e in log if e.stream == f"ORDER#{b}"]
    others = [e for e in log if e.stream not in (f"ORDER#{a}", f"ORDER#{b}")]
    assert len(a_events) >= 2
    unknown_type = poisoned(record_of(a_events[1]), type={"S": "OrderTeleported"})
    batch = [
        *records_of(others),
        record_of(a_events[0]),
        unknown_type,
        *records_of(b_events),
        *records_of(a_events[2:]),
    ]
    assert deliver(batch) == []  # nothing holds the shard up
    assert parked_keys() == [(f"ORDER#{a}", e.version) for e in a_events[1:]]
    read_model = bootstrap.read_model()
    assert read_model.get(f"ORDER#{a}").version == 1
    assert read_model.get(f"ORDER#{b}") == fold_stream(f"ORDER#{b}", b_events)
    for event in others:
        assert read_model.get(event.stream) is not None


def test_an_order_holding_a_nul_is_parked_and_every_other_order_is_projected(pg, shop, emitted_metrics):
    """The NUL in a client reference (which PostgreSQL text cannot hold, and the schemas now
    refuse) stalls nobody: it is parked, counted for the alarm, and the others appear."""
    poison_id = shop.place(shop.users[0])
    placed = shop.store.read(f"ORDER#{poison_id}")[0]
    data = placed.data.model_dump(mode="json") | {"client_reference": "cart\u000042"}
    nul = poisoned(record_of(placed), data={"S": json.dumps(data)})
    others = [shop.place(shop.users[1]) for _ in range(5)]
    batch = [nul, *records_of([e for e in shop.store.log if e.stream != f"ORDER#{poison_id}"])]
    assert deliver(batch) == []
    assert parked_keys() == [(f"ORDER#{poison_id}", 1)]
    error = bootstrap.read_model().parked()[0].error
    assert "client_reference" in error
    assert "\x00" not in error
    for order_id in others:
        assert bootstrap.read_model().get(f"ORDER#{order_id}") is not None
    assert ("EventsParked", {"service": "orders"}, 1.0) in emitted_metrics()


def test_an_event_that_keeps_failing_is_parked_after_bounded_attempts_and_redriven_once_fixed(pg, shop):
    order_id = shop.place(shop.users[0])
    shop.advance()
    first, second = shop.store.read(f"ORDER#{order_id}")[:2]
    ahead = poisoned(record_of(second))
    ahead["dynamodb"]["Keys"]["SK"] = {"S": "EV#0000000009"}
    ahead["dynamodb"]["NewImage"].update(SK={"S": "EV#0000000009"}, version={"N": "9"})
    assert deliver([record_of(first), ahead]) == []
    parked = bootstrap.read_model().parked()
    assert [(p.stream, p.version) for p in parked] == [(f"ORDER#{order_id}", 9)]
    assert "GapNotHealed" in parked[0].error
    report = projector.handler({"action": "redrive"}, Context(function_name="projector"))
    assert report == {"redriven": [f"ORDER#{order_id}"], "still_parked": []}
    assert bootstrap.read_model().parked() == []
    assert bootstrap.read_model().get(f"ORDER#{order_id}").version == second.version


def test_an_unreachable_read_model_fails_the_rest_of_the_batch(pg, shop, monkeypatch):
    shop.place()
    records = records_of(shop.store.log)
    monkeypatch.setenv("DATABASE_URL", "postgresql://orders@127.0.0.1:1/orders?connect_timeout=2")
    store = shop.store
    bootstrap.reset()
    bootstrap.override(event_store=store)
    assert deliver(records) == [sequence_of(record) for record in records]


def test_records_that_are_not_events_are_left_alone(pg, shop):
    shop.place()
    record = record_of(shop.store.log[-1])
    head = poisoned(record)
    head["dynamodb"]["Keys"]["SK"] = {"S": "HEAD"}
    removal = poisoned(record)
    removal["eventName"] = "REMOVE"
    assert deliver([head, removal]) == []
    assert canonical_rows(pg.schema)["orders"] == {}


def test_the_projector_leaves_no_prepared_statements_or_session_settings(pg, shop):
    shop.run(10)
    assert deliver(records_of(shop.store.log)) == []
    connection = bootstrap.postgres()

    def probe(conn: psycopg.Connection):
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
        settings = conn.execute("SELECT name, setting FROM pg_settings WHERE source = 'session'").fetchall()
        return prepared, settings

    assert connection.read(probe) == (0, [])

    # The probe can see both: on another connection, one prepared statement and one SET.
    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT 1 WHERE %s", [True], prepare=True)
        other.execute("SET work_mem = '8MB'")
        assert probe(other) == (1, [("work_mem", "8192")])
