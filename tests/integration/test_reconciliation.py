"""Reconciliation against a real Postgres read model and the DynamoDB log (moto), wired as the
function finds them: the projector saw every event but the last of some orders (their batch
went to the on-failure queue); one scheduled run brings the rows to what the log says, and the
lost records delivered late change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws
from psycopg import sql

from handlers import reconcile
from infra.emulator.moto_atomic import make_dynamodb_writes_atomic
from ordering import bootstrap
from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.adapters.dynamodb_table import create_table
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.postgres_read_model import unfinished_orders_query
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.streams import order_stream
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.projection import fold_stream
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from streams import projector
from tests.functional.invoke import Context
from tests.support.postgres import canonical_rows, connect, database_url, expected_rows, fresh_read_model
from tests.support.stream_records import records_of, stream_event

pytestmark = [pytest.mark.postgres, pytest.mark.moto]

USER = "5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a"


@pytest.fixture
def wired(monkeypatch):
    """The Postgres read model through DATABASE_URL, the DynamoDB log on moto."""
    make_dynamodb_writes_atomic()  # and a query reads one partition, as DynamoDB does
    with fresh_read_model() as pg, mock_aws():
        monkeypatch.setenv("DATABASE_URL", database_url())
        monkeypatch.setenv("READ_MODEL_SCHEMA", pg.schema)
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, "orders")
        store = DynamoDBEventStore(client, "orders")
        bootstrap.reset()
        bootstrap.override(event_store=store)
        try:
            yield store, pg
        finally:
            bootstrap.postgres().close()
            bootstrap.reset()


def deliver(events) -> None:
    response = projector.handler(stream_event(records_of(events)), Context(function_name="projector"))
    assert response["batchItemFailures"] == []


def log_truth(store, streams) -> dict[str, dict[str, str]]:
    return expected_rows(fold_stream(stream, store.read(stream)) for stream in streams)


def settled(store) -> str:
    order_id = str(uuid.uuid4())
    place_order(
        store, PlaceOrder(order_id, USER, "ada@example.com", (RequestedLine("MUG-01", 1),)), Cause("c")
    )
    record_payment(store, FakePaymentGateway(), order_id, Cause("c"))
    settle_order(store, order_id, True, Cause("c"))
    return order_stream(order_id)


def test_orders_whose_last_events_were_lost_are_healed_and_late_records_change_nothing(wired):
    store, pg = wired
    restock(store, "MUG-01", 500, Decimal("7.50"), "EUR", Cause("seed"))
    streams, lost = [], []
    for n in range(12):
        order_id = str(uuid.uuid4())
        place_order(
            store, PlaceOrder(order_id, USER, "ada@example.com", (RequestedLine("MUG-01", 1),)), Cause("c")
        )
        record_payment(store, FakePaymentGateway(), order_id, Cause("c"))
        settle_order(store, order_id, True, Cause("c"))
        stream = order_stream(order_id)
        streams.append(stream)
        events = store.read(stream)
        kept = events if n % 4 else events[:-1]  # every fourth order: its OrderFulfilled never projected
        lost += events[len(kept) :]
        deliver(kept)
    deliver(store.read("SKU#MUG-01"))
    assert canonical_rows(pg.schema) != log_truth(store, [*streams, "SKU#MUG-01"])

    report = reconcile.handler({}, Context(function_name="reconcile"))

    assert report == {
        "checked": 12,
        "unfinished_checked": 0,  # all updated within the last minute: left to the stream
        "sweep_done": True,
        "healed": 3,
        "parked": 0,
        "left_parked": 0,
        "window_full": False,
    }
    assert canonical_rows(pg.schema) == log_truth(store, [*streams, "SKU#MUG-01"])
    deliver(lost)  # the parked batch redriven after all: skipped by version
    assert canonical_rows(pg.schema) == log_truth(store, [*streams, "SKU#MUG-01"])
    assert reconcile.handler({}, Context(function_name="reconcile"))["healed"] == 0


def test_unfinished_orders_are_healed_page_by_page_when_the_window_is_full(wired, monkeypatch):
    store, pg = wired
    restock(store, "MUG-01", 500, Decimal("7.50"), "EUR", Cause("seed"))
    lost = [settled(store) for _ in range(5)]
    for stream in lost:
        deliver(store.read(stream)[:-1])  # OrderFulfilled never projected: the rows stay PAID
    newer = [settled(store) for _ in range(3)]
    for stream in newer:
        deliver(store.read(stream))
    deliver(store.read("SKU#MUG-01"))
    monkeypatch.setenv("RECONCILE_MAX_ORDERS", "2")  # the window holds only the newer orders
    monkeypatch.setenv("RECONCILE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("RECONCILE_PAGE_SIZE", "2")
    bootstrap.override(settings=bootstrap.Settings.from_env())

    report = reconcile.handler({}, Context(function_name="reconcile"))

    assert (report["window_full"], report["unfinished_checked"], report["sweep_done"]) == (True, 5, True)
    assert report["healed"] == 5
    assert canonical_rows(pg.schema) == log_truth(store, [*lost, *newer, "SKU#MUG-01"])
    assert bootstrap.read_model().sweep_position() is None


def test_a_page_of_unfinished_orders_is_read_from_their_partial_index():
    """Migration 006's index serves the sweep's query: among many finished orders, a page of
    the unfinished ones is a range of the small index, not a scan of the table."""
    with fresh_read_model() as pg, connect() as conn:
        table = sql.SQL("{}.orders").format(sql.Identifier(pg.schema))
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (order_id, user_id, email, status, total, currency, created_at, updated_at,"
                " version) SELECT gen_random_uuid(), gen_random_uuid(), 'ada@example.com',"
                " CASE WHEN n % 500 = 0 THEN 'PAID' ELSE 'FULFILLED' END, 1, 'EUR', now(), now(), 3"
                " FROM generate_series(1, 5000) AS n"
            ).format(table)
        )
        conn.execute(sql.SQL("ANALYZE {}").format(table))
        for after in (False, True):
            query = unfinished_orders_query(pg.schema, after)
            params = [datetime.now(UTC), *([str(uuid.UUID(int=0))] if after else []), 1001]
            plan = conn.execute(sql.SQL("EXPLAIN ") + query, params).fetchall()
            assert "orders_unfinished" in "\n".join(row[0] for row in plan)
