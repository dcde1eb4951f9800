"""For each function measured: how to prepare, on moto, a fresh first event, and what success looks like.

Every run gets its own state (its own order, user or SKU), made through our own services on
the same moto server, so that the function under test (or its baseline) does real work on its
first event, the work it does on AWS. Both sides of a comparison get events made the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from bench import aws_events
from infra.emulator.aws import client
from infra.emulator.resources import Resources
from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.sqs_eventbridge_publisher import SqsEventBridgePublisher
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import Recorded
from ordering.domain.streams import order_stream
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause

SKU = "BENCH-MUG"
PRICE = Decimal("7.50")


class World:
    """The moto resources, a stocked SKU and a customer; makes fresh state for each run.

    With a database URL and schema, also the read model there, for the functions that use it."""

    def __init__(
        self, resources: Resources, database_url: str | None = None, schema: str | None = None
    ) -> None:
        self.resources = resources
        self.database_url, self.schema = database_url, schema
        self.store = DynamoDBEventStore(client("dynamodb", resources.endpoint), resources.table_name)
        self.publisher = SqsEventBridgePublisher(
            client("sqs", resources.endpoint),
            client("events", resources.endpoint),
            queue_url=resources.queue_urls["payment"],
            bus_name=resources.event_bus_name,
        )
        self.stream = aws_events.StreamFollower(resources)
        self.user_id, self.email = str(uuid.uuid4()), "bench.customer@example.com"
        restock(self.store, SKU, 1_000_000, PRICE, "EUR", Cause("bench-seed"))

    def customer_claims(self) -> dict[str, Any]:
        return aws_events.claims(self.user_id, self.email)

    def place(self) -> Recorded:
        """A new order of one line; its OrderPlaced event."""
        order_id = str(uuid.uuid4())
        command = PlaceOrder(order_id, self.user_id, self.email, (RequestedLine(SKU, 1),))
        place_order(self.store, command, Cause(f"bench-{order_id[:8]}"))
        return self.store.read(order_stream(order_id))[0]

    def projected(self) -> str:
        """A new order, paid, and in the read model as the projector would have put it; its id."""
        from ordering.adapters.postgres_connection import CONNECT_OPTIONS, PostgresConnection
        from ordering.adapters.postgres_read_model import PostgresReadModel
        from ordering.services.projection import project

        if self.database_url is None or self.schema is None:
            raise RuntimeError("this case needs the read model: World(..., database_url, schema)")
        order_id = self.paid().data.order_id  # type: ignore[union-attr]
        url = self.database_url
        db = PostgresConnection(lambda: psycopg.connect(url, **CONNECT_OPTIONS))
        try:
            read_model = PostgresReadModel(db, self.schema)
            for event in self.store.read(order_stream(order_id)):
                project(read_model, self.store.read, event)
        finally:
            db.close()
        return order_id

    def paid(self) -> Recorded:
        """A new order, paid; its PaymentSucceeded event."""
        placed = self.place()
        order_id = placed.data.order_id  # type: ignore[union-attr]
        record_payment(
            self.store, FakePaymentGateway(), order_id, Cause(placed.correlation_id, placed.event_id)
        )
        return self.store.read(order_stream(order_id))[-1]

    def fulfilled(self) -> Recorded:
        """A new order, paid and fulfilled; its OrderFulfilled event."""
        paid = self.paid()
        order_id = paid.data.order_id  # type: ignore[union-attr]
        settle_order(self.store, order_id, True, Cause(paid.correlation_id, paid.event_id))
        return self.store.read(order_stream(order_id))[-1]


@dataclass(frozen=True)
class Case:
    function: str  # the topology's name
    baseline: str  # module.attribute of the bare boto3 handler beside it
    prepare: Callable[[World], dict[str, Any]]  # a fresh first event
    succeeded: Callable[[Any], bool]  # did the handler do its work (else the run is not valid)
    route: str = ""  # what the event asks, for the report
    needs_postgres: bool = False  # the read model must be there (projector, GET /orders/{id})
    label: str = ""  # how the report names it, when a function has more than one case

    @property
    def name(self) -> str:
        return self.label or self.function


def _place_order_event(world: World) -> dict[str, Any]:
    return aws_events.api_event(
        "POST",
        "/orders",
        resource="/orders",
        body={"lines": [{"sku": SKU, "quantity": 1}]},
        token_claims=world.customer_claims(),
    )


def _restock_event(world: World) -> dict[str, Any]:
    admin = aws_events.claims(str(uuid.uuid4()), "bench.admin@example.com", admin=True)
    body = {"sku": f"BENCH-{uuid.uuid4().hex[:8].upper()}", "quantity": 5, "price": "2.50", "currency": "EUR"}
    return aws_events.api_event("POST", "/inventory", resource="/inventory", body=body, token_claims=admin)


def _order_events_event(world: World) -> dict[str, Any]:
    order_id = world.paid().data.order_id  # type: ignore[union-attr]
    return aws_events.api_event(
        "GET",
        f"/orders/{order_id}/events",
        resource="/orders/{order_id}/events",
        path_parameters={"order_id": order_id},
        token_claims=world.customer_claims(),
    )


def _order_event(world: World) -> dict[str, Any]:
    order_id = world.projected()
    return aws_events.api_event(
        "GET",
        f"/orders/{order_id}",
        resource="/orders/{order_id}",
        path_parameters={"order_id": order_id},
        token_claims=world.customer_claims(),
    )


def _register_event(world: World) -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    return aws_events.cognito_confirmation(world.resources, user_id, f"u{user_id[:8]}@example.com")


def _payment_event(world: World) -> dict[str, Any]:
    placed = world.place()
    world.publisher.to_payment_queue([placed])
    return aws_events.sqs_event(world.resources, "payment", placed.event_id)


def _target_event(function: str, outcome: Callable[[World], Recorded]) -> Callable[[World], dict[str, Any]]:
    """What the function's rule delivers for the event `outcome` records (put on the bus)."""

    def prepare(world: World) -> dict[str, Any]:
        event = outcome(world)
        world.publisher.to_event_bus([event])
        return aws_events.eventbridge_target_event(world.resources, function, event.event_id)

    return prepare


def _publisher_event(world: World) -> dict[str, Any]:
    placed = world.place()
    return world.stream.event_records(placed.stream)


def _status(code: int) -> Callable[[Any], bool]:
    return lambda result: isinstance(result, dict) and result.get("statusCode") == code


def _no_failures(result: Any) -> bool:
    return isinstance(result, dict) and result.get("batchItemFailures") == []


CASES: tuple[Case, ...] = (
    Case(
        "place_order",
        "bench.baselines.place_order.handler",
        _place_order_event,
        _status(202),
        "POST /orders, one line",
    ),
    Case(
        "query_orders",
        "bench.baselines.query_orders.handler",
        _order_events_event,
        _status(200),
        "GET /orders/{id}/events (the log; no Postgres)",
        label="query_orders GET /orders/{id}/events",
    ),
    Case(
        "restock",
        "bench.baselines.restock.handler",
        _restock_event,
        _status(200),
        "POST /inventory, a new SKU",
    ),
    Case(
        "register_user",
        "bench.baselines.register_user.handler",
        _register_event,
        lambda result: (
            isinstance(result, dict) and result.get("triggerSource", "").startswith("PostConfirmation")
        ),
        "Cognito post-confirmation",
    ),
    Case(
        "payment",
        "bench.baselines.payment.handler",
        _payment_event,
        _no_failures,
        "SQS batch of one OrderPlaced",
    ),
    Case(
        "inventory",
        "bench.baselines.inventory.handler",
        _target_event("inventory", World.paid),
        lambda result: isinstance(result, dict) and "OrderFulfilled" in result.get("events", []),
        "EventBridge Payment.Success",
    ),
    Case(
        "notification",
        "bench.baselines.notification.handler",
        _target_event("notification", World.fulfilled),
        lambda result: isinstance(result, dict) and bool(result.get("message_id")),
        "EventBridge Order.Fulfilled",
    ),
    Case(
        "publisher",
        "bench.baselines.publisher.handler",
        _publisher_event,
        _no_failures,
        "stream batch: one OrderPlaced",
    ),
    Case(
        "projector",
        "bench.baselines.projector.handler",
        _publisher_event,
        _no_failures,
        "stream batch: one OrderPlaced, into Postgres",
        needs_postgres=True,
    ),
    Case(
        "query_orders",
        "bench.baselines.query_order.handler",
        _order_event,
        _status(200),
        "GET /orders/{id} (the read model in Postgres)",
        needs_postgres=True,
        label="query_orders GET /orders/{id}",
    ),
)
