"""Property: what a schema in model/ accepts, every store holds, and the pipeline carries.

hypothesis generates instances of every schema (from the generated draft-04 documents, the
ones API Gateway checks) and they go through the real backends: every string into PostgreSQL
text and back; every event into the DynamoDB event store (moto) and back; and order requests
through POST /orders, the log, the projector, GET /orders/{id} and a replay, which must find
nothing it cannot project and no difference. Bounded examples, so that `make test` runs it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema

import codegen
from generated import models as m
from handlers import place_order, query_orders
from infra.emulator.request_validation import model_document, validator_for
from ordering import bootstrap
from ordering.domain.events import EVENT_CLASSES
from ordering.domain.recorded import NewEvent
from ordering.services import replay as replaying
from ordering.services.restock import restock
from ordering.services.stamp import Cause
from streams import projector
from tests.functional.invoke import USER_A, Context, api_request
from tests.support.postgres import connect, database_url, fresh_read_model
from tests.support.stream_records import records_of, stream_event

pytestmark = [pytest.mark.postgres, pytest.mark.moto, pytest.mark.slow]

TITLES = sorted(schema.title for schema in codegen.load_model().values() if schema.kind != "common")
# An envelope's `data` is any object to its own schema; what it may hold is each event type's
# schema, tested below. (The log keeps `data` as a JSON string, where a NUL is escaped.)
ENVELOPES = {"EventEnvelope", "OrderEventList"}
# Answers the service composes itself and never stores (docs/architecture.md, Schemas first).
ANSWERS_ONLY = {"Error", "OrderAccepted"}
EVENT_TITLES = sorted(EVENT_CLASSES)
BOUNDED = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *strings_in(item)]]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


@pytest.mark.parametrize("title", sorted(set(TITLES) - ENVELOPES - ANSWERS_ONLY))
def test_every_string_a_schema_accepts_postgres_text_holds(title):
    with connect() as conn:

        @BOUNDED
        @given(from_schema(model_document(title)))
        def holds(instance):
            assert validator_for(title).is_valid(instance)
            for text in strings_in(instance):
                assert conn.execute("SELECT %s::text", [text]).fetchone()[0] == text

        holds()


@pytest.mark.parametrize("title", EVENT_TITLES)
def test_every_event_a_schema_accepts_the_event_store_holds(aws, title):
    store = bootstrap.event_store()  # DynamoDB on moto, as in Lambda

    @BOUNDED
    @given(from_schema(model_document(title)))
    def holds(instance):
        data = EVENT_CLASSES[title].model_validate(instance)
        stream = f"ORDER#{uuid.uuid4()}"
        event = NewEvent(data, str(uuid.uuid4()), datetime.now(UTC), "roundtrip")
        store.append(stream, 0, [event])
        (read,) = store.read(stream)
        assert read.data == data
        assert json.loads(read.data.model_dump_json()) == json.loads(data.model_dump_json())

    holds()


def test_order_requests_go_from_the_api_to_the_read_model_and_replay_unchanged(aws, monkeypatch):
    with fresh_read_model() as pg:
        monkeypatch.setenv("DATABASE_URL", database_url())
        monkeypatch.setenv("READ_MODEL_SCHEMA", pg.schema)
        bootstrap.reset()
        store = bootstrap.event_store()
        for sku in ("MUG-01", "TEA-EARL"):
            restock(store, sku, 1_000_000, Decimal("1.25"), "EUR", Cause("seed"))
        projected: set[str] = set()

        @BOUNDED
        @given(from_schema(model_document("PlaceOrderRequest")))
        def carried(body):
            # The catalog has two SKUs: the drawn lines keep their quantities, on those SKUs.
            body["lines"] = [
                {"sku": sku, "quantity": line["quantity"]}
                for sku, line in zip(("MUG-01", "TEA-EARL"), body["lines"], strict=False)
            ]
            answer = place_order.handler(
                api_request("apigateway_place_order", body, headers={"Idempotency-Key": None}),
                Context("orders-place_order"),
            )
            assert answer["statusCode"] == 202, answer["body"]
            order_id = m.OrderAccepted.model_validate_json(answer["body"]).order_id
            streams = [f"ORDER#{order_id}", "SKU#MUG-01", "SKU#TEA-EARL"]
            new = [e for s in streams for e in store.read(s) if (s, e.version) not in projected]
            projected.update((e.stream, e.version) for e in new)
            failures = projector.handler(stream_event(records_of(new)), Context(function_name="projector"))
            assert failures == {"batchItemFailures": []}
            assert bootstrap.read_model().parked() == []
            got = query_orders.handler(_get_order(order_id), Context(function_name="query_orders"))
            assert got["statusCode"] == 200, got["body"]
            order = m.Order.model_validate_json(got["body"])
            assert json.loads(got["body"]).get("client_reference") == body.get("client_reference")
            assert [(line.sku, line.quantity) for line in order.lines] == [
                (line["sku"], line["quantity"]) for line in body["lines"]
            ]

        carried()
        report = replaying.replay(store, bootstrap.rebuilds(), segments=2, dry_run=True)
        assert report.unprojectable == []
        assert not report.differs, report.differences
        bootstrap.postgres().close()


def _get_order(order_id: str) -> dict[str, Any]:
    event = api_request("apigateway_get_order", user=USER_A)
    event["path"] = f"/orders/{order_id}"
    event["requestContext"]["path"] = f"/v1/orders/{order_id}"
    event["pathParameters"] = {"order_id": order_id}
    return event
