"""What runs where, as plain data. Read by two interpreters: infra/aws (CDK) and infra/emulator
(the local stand-ins that `orders dev` runs).

Nothing here imports CDK or boto3. A test (tests/infra) holds the three together: every
function, route, queue and rule below is in the synthesized template and in the local
runtime, and nothing else is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

# The names on the wire: the publisher puts these, the rules below route them.
from ordering.messaging import EVENT_SOURCE, PAYMENT_FAILED, PAYMENT_SUCCEEDED

SERVICE = "orders"
EVENT_BUS = "orders"
ADMIN_GROUP = "admin"
# Every function gets these; each interpreter adds the variables of the resources it uses:
#   table -> TABLE_NAME, payment_queue -> PAYMENT_QUEUE_URL, event_bus -> EVENT_BUS_NAME,
#   mailer -> SENDER_EMAIL, database -> DATABASE_URL (local) or DB_HOST/DB_PORT/DB_NAME/DB_USER
#   with DB_IAM_AUTH=true and DB_SSLMODE=require (AWS, through RDS Proxy), payment_gateway ->
#   PAYMENT_GATEWAY=fake (AWS, with -c stripeSecretArn: stripe and STRIPE_SECRET_ARN).
COMMON_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

Trigger = Literal["api", "sqs", "stream", "eventbridge", "cognito", "deploy", "manual"]
# Resources a function uses. Each interpreter turns them into environment variables and grants.
Resource = Literal["table", "payment_queue", "event_bus", "database", "mailer", "payment_gateway"]
# What a function that uses the table may do with it; infra/aws grants exactly these actions.
TableAccess = Literal["read", "read_write", "read_scan"]


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # module.attribute
    trigger: Trigger
    description: str
    uses: frozenset[Resource]
    memory_mb: int = 512
    timeout_seconds: int = 30
    in_vpc: bool = False  # only what reaches Postgres sits in the VPC
    reserved_concurrency: int | None = None
    environment: dict[str, str] = field(default_factory=dict)
    table_access: TableAccess = "read_write"  # only read when `uses` has "table"

    @property
    def uses_postgres(self) -> bool:
        return "database" in self.uses


@dataclass(frozen=True)
class Queue:
    name: str
    description: str
    visibility_timeout_seconds: int = 30
    retention_days: int = 14
    dead_letter: str | None = None  # the queue messages go to after max_receive_count receives
    max_receive_count: int = 5


@dataclass(frozen=True)
class QueueConsumer:
    queue: str
    function: str
    batch_size: int
    max_batching_window_seconds: int = 0


@dataclass(frozen=True)
class StreamConsumer:
    """A DynamoDB Streams event source mapping. At most two per stream (DynamoDB's budget)."""

    function: str
    batch_size: int
    bisect_on_error: bool
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    on_failure: str  # queue receiving a pointer to records that exhausted their retries
    parallelization_factor: int = 1
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    # Only events reach the consumers: not SKU heads, not idempotency records.
    filter_pattern: dict = field(
        default_factory=lambda: {
            "eventName": ["INSERT"],
            "dynamodb": {"Keys": {"SK": {"S": [{"prefix": "EV#"}]}}},
        }
    )


@dataclass(frozen=True)
class RuleTarget:
    function: str
    dead_letter: str
    maximum_retry_attempts: int = 8
    maximum_event_age_seconds: int = 3600


@dataclass(frozen=True)
class EventRule:
    name: str
    description: str
    detail_types: tuple[str, ...]
    targets: tuple[RuleTarget, ...]
    source: str = EVENT_SOURCE

    @property
    def pattern(self) -> dict:
        return {"source": [self.source], "detail-type": list(self.detail_types)}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    function: str
    request_model: str | None
    admin_only: bool


@dataclass(frozen=True)
class Api:
    name: str
    stage: str
    rate_limit: float  # requests per second, steady state
    burst_limit: int
    quota_per_day: int


@dataclass(frozen=True)
class Alarm:
    name: str
    kind: Literal["dlq_depth", "iterator_age", "api_5xx", "throttles", "events_parked"]
    subject: str  # the queue, function or API it watches
    threshold: float
    description: str


# --- functions ----------------------------------------------------------------------------------

API_MEMORY_MB = 1024  # the API path gets CPU: cold starts and p99 fall faster than the bill rises

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="place_order",
        handler="handlers.place_order.handler",
        trigger="api",
        description="POST /orders: price, reserve and record an order in one transaction",
        uses=frozenset({"table"}),
        memory_mb=API_MEMORY_MB,
        timeout_seconds=10,
    ),
    Function(
        name="query_orders",
        handler="handlers.query_orders.handler",
        trigger="api",
        description="GET /orders, /orders/{id}, /orders/{id}/events from the read model and the log",
        uses=frozenset({"table", "database"}),
        memory_mb=API_MEMORY_MB,
        timeout_seconds=10,
        in_vpc=True,
        reserved_concurrency=50,  # at most 50 connections through RDS Proxy from here
        table_access="read",
    ),
    Function(
        name="restock",
        handler="handlers.restock.handler",
        trigger="api",
        description="POST /inventory (admins): add stock and set prices",
        uses=frozenset({"table"}),
        memory_mb=API_MEMORY_MB,
        timeout_seconds=10,
    ),
    Function(
        name="register_user",
        handler="handlers.register_user.handler",
        trigger="cognito",
        description="Cognito post-confirmation: record UserRegistered",
        uses=frozenset({"table"}),
        timeout_seconds=5,  # Cognito waits 5 s for a trigger
    ),
    Function(
        name="payment",
        handler="handlers.payment.handler",
        trigger="sqs",
        description="Charge each placed order once; record PaymentSucceeded or PaymentFailed",
        uses=frozenset({"table", "payment_gateway"}),
        timeout_seconds=30,
    ),
    Function(
        name="inventory",
        handler="handlers.inventory.handler",
        trigger="eventbridge",
        description="Commit stock and fulfil, or release stock and cancel, after the payment outcome",
        uses=frozenset({"table"}),
        timeout_seconds=30,
    ),
    Function(
        name="notification",
        handler="handlers.notification.handler",
        trigger="eventbridge",
        description="E-mail the customer about the payment outcome, once",
        uses=frozenset({"table", "mailer"}),
        timeout_seconds=30,
    ),
    Function(
        name="projector",
        handler="streams.projector.handler",
        trigger="stream",
        description="Keep the Postgres read model in step with the event log",
        uses=frozenset({"table", "database"}),
        memory_mb=1024,
        timeout_seconds=60,
        in_vpc=True,
        reserved_concurrency=10,
        table_access="read",
    ),
    Function(
        name="publisher",
        handler="streams.publisher.handler",
        trigger="stream",
        description="OrderPlaced -> payment queue; payment outcomes -> event bus",
        uses=frozenset({"payment_queue", "event_bus"}),
        timeout_seconds=60,
    ),
    Function(
        name="migrate",
        handler="handlers.migrate.handler",
        trigger="deploy",
        description="Apply the read model's SQL migrations (a custom resource on every deploy)",
        uses=frozenset({"database"}),
        timeout_seconds=300,
        in_vpc=True,
    ),
    Function(
        name="replay",
        handler="handlers.replay.handler",
        trigger="manual",
        description="Rebuild the read model from the event log (invoke by hand)",
        uses=frozenset({"table", "database"}),
        memory_mb=1769,  # one full vCPU
        timeout_seconds=900,
        in_vpc=True,
        table_access="read_scan",
    ),
)

# --- messaging ----------------------------------------------------------------------------------

PAYMENT_TIMEOUT = next(f.timeout_seconds for f in FUNCTIONS if f.name == "payment")

QUEUES: tuple[Queue, ...] = (
    Queue(
        name="payment",
        description="OrderPlaced envelopes waiting to be charged",
        # AWS's rule: at least 6 x the consumer's timeout, so a slow batch is not redelivered
        # while it is still running.
        visibility_timeout_seconds=6 * PAYMENT_TIMEOUT,
        dead_letter="payment-dlq",
        max_receive_count=5,
    ),
    Queue(name="payment-dlq", description="Payments that failed 5 times"),
    Queue(name="projector-failures", description="Stream records the projector gave up on"),
    Queue(name="publisher-failures", description="Stream records the publisher gave up on"),
    Queue(name="inventory-dlq", description="Payment outcomes the inventory function could not apply"),
    Queue(name="notification-dlq", description="Payment outcomes the notification function could not mail"),
)

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer(queue="payment", function="payment", batch_size=10, max_batching_window_seconds=1),
)

STREAM_CONSUMERS: tuple[StreamConsumer, ...] = (
    StreamConsumer(
        function="projector",
        batch_size=100,
        bisect_on_error=True,
        maximum_retry_attempts=10,
        maximum_record_age_seconds=6 * 3600,
        on_failure="projector-failures",
    ),
    StreamConsumer(
        function="publisher",
        batch_size=100,
        bisect_on_error=True,
        maximum_retry_attempts=10,
        maximum_record_age_seconds=6 * 3600,
        on_failure="publisher-failures",
    ),
)


EVENT_RULES: tuple[EventRule, ...] = (
    EventRule(
        name="payment-outcome-to-inventory",
        description="Commit or release the order's stock",
        detail_types=(PAYMENT_SUCCEEDED, PAYMENT_FAILED),
        targets=(RuleTarget(function="inventory", dead_letter="inventory-dlq"),),
    ),
    EventRule(
        name="payment-outcome-to-notification",
        description="E-mail the customer",
        detail_types=(PAYMENT_SUCCEEDED, PAYMENT_FAILED),
        targets=(RuleTarget(function="notification", dead_letter="notification-dlq"),),
    ),
)

# --- API ----------------------------------------------------------------------------------------

API = Api(name="orders-api", stage="v1", rate_limit=50, burst_limit=100, quota_per_day=100_000)

# Which function serves each operation of generated/openapi.json (from model/routes.json).
OPERATION_FUNCTIONS = {
    "placeOrder": "place_order",
    "listOrders": "query_orders",
    "getOrder": "query_orders",
    "listOrderEvents": "query_orders",
    "restock": "restock",
}


@cache
def openapi() -> dict:
    return json.loads(resources.files("generated").joinpath("openapi.json").read_text(encoding="utf-8"))


def routes() -> tuple[Route, ...]:
    """Every route of the generated OpenAPI document, with the function that serves it."""
    found = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            model = body.get("schema", {}).get("$ref", "").rpartition("/")[2] or None
            found.append(
                Route(
                    method=method.upper(),
                    path=path,
                    operation_id=operation["operationId"],
                    function=OPERATION_FUNCTIONS[operation["operationId"]],
                    request_model=model,
                    admin_only=bool(operation.get("x-admin-only")),
                )
            )
    return tuple(found)


# --- alarms -------------------------------------------------------------------------------------


def alarms() -> tuple[Alarm, ...]:
    found = [
        Alarm(f"{queue.name}-not-empty", "dlq_depth", queue.name, 0, f"Something is parked in {queue.name}")
        for queue in QUEUES
        if queue.name != "payment"
    ]
    found += [
        Alarm(
            f"{c.function}-iterator-age",
            "iterator_age",
            c.function,
            60_000,
            f"{c.function} lags the stream by >60 s",
        )
        for c in STREAM_CONSUMERS
    ]
    found.append(Alarm("api-5xx", "api_5xx", API.name, 0, "The API answered 5xx"))
    found.append(
        Alarm(
            "projector-events-parked",
            "events_parked",
            "projector",
            0,
            "The projector parked an event it could not apply: see parked_events, then redrive",
        )
    )
    found += [
        Alarm(f"{f.name}-throttles", "throttles", f.name, 0, f"{f.name} was throttled")
        for f in FUNCTIONS
        if f.trigger in ("api", "sqs", "stream", "eventbridge")
    ]
    return tuple(found)


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def queue(name: str) -> Queue:
    return next(q for q in QUEUES if q.name == name)
