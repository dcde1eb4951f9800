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

from ordering.adapters.dynamodb_table import EVENT_PREFIX

# The names on the wire: the publisher puts these, the rules below route them.
from ordering.messaging import ADMIN_GROUP as ADMIN_GROUP  # the user pool's group, for both interpreters
from ordering.messaging import (
    EVENT_SOURCE,
    MAX_DELAY_SECONDS,
    ORDER_CANCELLED,
    ORDER_FULFILLED,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
)

SERVICE = "orders"
EVENT_BUS = "orders"
# Every function gets these; each interpreter adds the variables of the resources it uses,
# as ordering/config.py's RESOURCE_SETTINGS names them. We use no pydantic plugin: without
# PYDANTIC_DISABLE_PLUGINS the first model a function builds scans every installed
# distribution's entry points for one, on its first request.
COMMON_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}

Trigger = Literal["api", "sqs", "stream", "eventbridge", "cognito", "deploy", "manual", "schedule"]
# Resources a function uses. Each interpreter turns them into environment variables and grants.
Resource = Literal[
    "table",
    "payment_queue",
    "deadline_queue",
    "refund_queue",
    "event_bus",
    "database",
    "mailer",
    "payment_gateway",
]
# What a function that uses the table may do with it; infra/aws grants exactly these actions.
TableAccess = Literal["read", "read_write", "read_scan"]
# Functions restored from a SnapStart snapshot, on AWS and in `orders dev`: where a cold start is
# a caller waiting.
SNAP_START_TRIGGERS: frozenset[Trigger] = frozenset({"api"})


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
    def snap_start(self) -> bool:
        return self.trigger in SNAP_START_TRIGGERS


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
            "dynamodb": {"Keys": {"SK": {"S": [{"prefix": EVENT_PREFIX}]}}},
        }
    )


# Lambda's own retries of an asynchronous invocation (how a rule invokes its function) that
# failed in the function; EventBridge's retry policy covers only delivering it to Lambda.
ASYNC_RETRY_ATTEMPTS = 2


@dataclass(frozen=True)
class RuleTarget:
    """`maximum_retry_attempts` and `maximum_event_age_seconds` are EventBridge's, for delivery;
    `dead_letter` catches both what EventBridge could not deliver and what the function failed
    on after Lambda's ASYNC_RETRY_ATTEMPTS."""

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
class Schedule:
    """A function invoked at a fixed rate with an empty event: an EventBridge rule with a rate
    on AWS, a timer in `orders dev` (whose --schedule-every shortens every rate)."""

    name: str
    function: str
    rate_minutes: int
    description: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    function: str
    request_model: str | None
    admin_only: bool


@dataclass(frozen=True)
class RouteLimit:
    """A throttle of one method of the stage, below the stage's own: every caller counts."""

    method: str
    path: str
    rate_limit: float
    burst_limit: int


@dataclass(frozen=True)
class Api:
    name: str
    stage: str
    rate_limit: float  # requests per second, steady state, for the whole stage
    burst_limit: int
    route_limits: tuple[RouteLimit, ...] = ()

    def route_limit(self, method: str, path: str) -> RouteLimit | None:
        return next((r for r in self.route_limits if (r.method, r.path) == (method, path)), None)


@dataclass(frozen=True)
class Alarm:
    name: str
    kind: Literal[
        "dlq_depth", "oldest_message_age", "iterator_age", "api_5xx", "errors", "throttles", "events_parked"
    ]
    subject: str  # the queue, function or API it watches
    threshold: float
    description: str

    @property
    def metric(self) -> AlarmMetric:
        return ALARM_METRICS[self.kind]

    @property
    def dimension_value(self) -> str:
        """The dimension's value by the topology's name: on AWS, the subject's physical name; an
        EMF metric's `service` dimension is the Powertools service, the same name everywhere."""
        return SERVICE if self.metric.dimension == "service" else self.subject


@dataclass(frozen=True)
class AlarmMetric:
    """The CloudWatch metric an alarm kind watches: the CDK app and `orders dev` both read it."""

    namespace: str
    name: str
    dimension: str  # the one dimension, naming the alarm's subject
    statistic: Literal["Sum", "Maximum"]


# Every alarm is evaluated the same way: one period of a minute, breaching when the statistic
# is greater than the threshold; a period without data is not breaching (a quiet function is OK).
ALARM_PERIOD_SECONDS = 60
ALARM_EVALUATION_PERIODS = 1
ALARM_COMPARISON = "GreaterThanThreshold"
ALARM_MISSING_DATA = "notBreaching"


# --- functions ----------------------------------------------------------------------------------

API_MEMORY_MB = 1024  # the API path gets CPU: cold starts and p99 fall faster than the bill rises
# How long a placed order waits for its payment before it is cancelled (payment_timeout). The
# timer is the payment-deadline queue's per-message delay, so it is at most SQS's 15 minutes;
# `orders dev --payment-deadline` shortens it.
PAYMENT_DEADLINE_SECONDS = 900
if not 0 < PAYMENT_DEADLINE_SECONDS <= MAX_DELAY_SECONDS:
    raise ValueError(f"the payment deadline must be 1 to {MAX_DELAY_SECONDS} s (SQS's longest delay)")

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="place_order",
        handler="handlers.place_order.handler",
        trigger="api",
        description="POST /orders: price, reserve and record an order in one transaction",
        uses=frozenset({"table"}),
        memory_mb=API_MEMORY_MB,
        timeout_seconds=10,
        environment={"PAYMENT_DEADLINE_SECONDS": str(PAYMENT_DEADLINE_SECONDS)},
    ),
    Function(
        name="cancel_order",
        handler="handlers.cancel_order.handler",
        trigger="api",
        description="POST /orders/{id}/cancel: cancel an unpaid order, or request the refund of a paid one",
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
        name="payment_deadline",
        handler="handlers.payment_deadline.handler",
        trigger="sqs",
        description="At each order's payment deadline: cancel it if still unpaid and release its stock",
        uses=frozenset({"table"}),
        timeout_seconds=30,
    ),
    Function(
        name="refund",
        handler="handlers.refund.handler",
        trigger="sqs",
        description="Refund a cancelled order's charge once; then cancel it and release its stock",
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
        description="E-mail the customer, once, when the order is fulfilled or cancelled",
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
        description="OrderPlaced -> payment and deadline queues; refunds -> refund queue; outcomes -> bus",
        uses=frozenset({"payment_queue", "deadline_queue", "refund_queue", "event_bus"}),
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
        name="reconcile",
        handler="handlers.reconcile.handler",
        trigger="schedule",
        description="Heal read-model orders behind the log (a lost last event), on a schedule",
        uses=frozenset({"table", "database"}),
        timeout_seconds=300,
        in_vpc=True,
        reserved_concurrency=1,  # runs never overlap; one connection through RDS Proxy
        table_access="read",
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
DEADLINE_TIMEOUT = next(f.timeout_seconds for f in FUNCTIONS if f.name == "payment_deadline")
REFUND_TIMEOUT = next(f.timeout_seconds for f in FUNCTIONS if f.name == "refund")
PAYMENT_BATCHING_WINDOW_SECONDS = 1
# A message is held while its batch is gathered and then while the function runs (and Lambda
# may retry a throttled batch): AWS's rule is a visibility timeout of more than 6 x the
# consumer's timeout, and the batching window comes on top. The margin makes it strictly more.
VISIBILITY_MARGIN_SECONDS = 30


def visibility_timeout_for(timeout_seconds: int, batching_window_seconds: int) -> int:
    """Strictly more than 6 x the consumer's timeout plus its batching window."""
    return 6 * timeout_seconds + batching_window_seconds + VISIBILITY_MARGIN_SECONDS


QUEUES: tuple[Queue, ...] = (
    Queue(
        name="payment",
        description="OrderPlaced envelopes waiting to be charged",
        # So that a slow batch is not redelivered while it is still running.
        visibility_timeout_seconds=visibility_timeout_for(PAYMENT_TIMEOUT, PAYMENT_BATCHING_WINDOW_SECONDS),
        dead_letter="payment-dlq",
        max_receive_count=5,
    ),
    Queue(name="payment-dlq", description="Payments that failed 5 times"),
    Queue(
        name="payment-deadline",
        description="OrderPlaced envelopes, each held back until its order's payment deadline",
        visibility_timeout_seconds=visibility_timeout_for(DEADLINE_TIMEOUT, PAYMENT_BATCHING_WINDOW_SECONDS),
        dead_letter="payment-deadline-dlq",
        max_receive_count=5,
    ),
    Queue(name="payment-deadline-dlq", description="Payment deadlines that failed 5 times"),
    Queue(
        name="refund",
        description="RefundRequested envelopes waiting to be refunded",
        visibility_timeout_seconds=visibility_timeout_for(REFUND_TIMEOUT, PAYMENT_BATCHING_WINDOW_SECONDS),
        dead_letter="refund-dlq",
        max_receive_count=5,
    ),
    Queue(name="refund-dlq", description="Refunds that failed 5 times"),
    Queue(name="projector-failures", description="Stream records the projector gave up on"),
    Queue(name="publisher-failures", description="Stream records the publisher gave up on"),
    Queue(name="inventory-dlq", description="Payment outcomes the inventory function could not apply"),
    Queue(
        name="notification-dlq",
        description="Fulfilments and cancellations the notification function could not mail",
    ),
)

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer(
        queue="payment",
        function="payment",
        batch_size=10,
        max_batching_window_seconds=PAYMENT_BATCHING_WINDOW_SECONDS,
    ),
    QueueConsumer(
        queue="payment-deadline",
        function="payment_deadline",
        batch_size=10,
        max_batching_window_seconds=PAYMENT_BATCHING_WINDOW_SECONDS,
    ),
    QueueConsumer(
        queue="refund",
        function="refund",
        batch_size=10,
        max_batching_window_seconds=PAYMENT_BATCHING_WINDOW_SECONDS,
    ),
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
        # The order's last word, not the payment outcome: inventory appends to the order in
        # reaction to the outcome, and an e-mail sent on the outcome raced that append. A
        # declined order's notice follows its cancellation. A function has one dead-letter
        # queue, so its events share one rule.
        name="order-outcome-to-notification",
        description="E-mail the customer once the order is fulfilled or cancelled",
        detail_types=(ORDER_FULFILLED, ORDER_CANCELLED),
        targets=(RuleTarget(function="notification", dead_letter="notification-dlq"),),
    ),
)

# A failed run is not retried or parked: the next run does the same work (the Errors alarm tells).
SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        name="reconcile-read-model",
        function="reconcile",
        rate_minutes=5,
        description="Compare the recent orders of the read model with the log; heal what is behind",
    ),
)


# --- what is parked where, and where it goes back to --------------------------------------------

ParkedKind = Literal["queue", "rule_target", "stream_consumer"]


@dataclass(frozen=True)
class ParkedSource:
    """Where the messages of one dead-letter (or on-failure) queue came from: what a redrive
    puts them back into. Derived from the queues, rules and stream consumers above, so that a
    new DLQ cannot be left without a way back."""

    dead_letter: str
    kind: ParkedKind  # queue: SQS redrive; rule_target: an EventBridge target; stream_consumer: records
    source: str  # the source queue (queue) or the function the messages were meant for
    rule: str | None = None  # the EventBridge rule, for a rule target

    @property
    def redrive(self) -> str:
        """What a redrive does, in words (`orders dlq redrive` and docs/deploy.md say the same)."""
        if self.kind == "queue":
            return f"messages move back to the `{self.source}` queue"
        if self.kind == "rule_target":
            return f"each event is delivered again to `{self.source}` (rule `{self.rule}`)"
        return f"the records pointed to are read again from the stream and delivered to `{self.source}`"


def parked_sources() -> tuple[ParkedSource, ...]:
    """Every dead-letter and on-failure queue with its one source."""
    found = [ParkedSource(q.dead_letter, "queue", q.name) for q in QUEUES if q.dead_letter]
    found += [
        ParkedSource(t.dead_letter, "rule_target", t.function, rule=r.name)
        for r in EVENT_RULES
        for t in r.targets
    ]
    found += [ParkedSource(c.on_failure, "stream_consumer", c.function) for c in STREAM_CONSUMERS]
    names = [parked.dead_letter for parked in found]
    shared = sorted({name for name in names if names.count(name) > 1})
    if shared:
        # A redrive must know where each message goes back to: one source per dead-letter queue.
        raise ValueError(f"dead-letter queues with more than one source: {shared}")
    return tuple(found)


def parked_source(dead_letter: str) -> ParkedSource:
    """The source of one dead-letter queue; KeyError naming the known ones otherwise."""
    for parked in parked_sources():
        if parked.dead_letter == dead_letter:
            return parked
    known = ", ".join(p.dead_letter for p in parked_sources())
    raise KeyError(f"{dead_letter!r} is not a dead-letter queue (known: {known})")


# --- API ----------------------------------------------------------------------------------------

# Placing an order writes a transaction and starts a payment; reads are cheap. Writes get their
# own, lower limits, so that a flood of orders cannot take the whole stage's budget from the
# reads. Stage and method throttles apply to every caller, Cognito users included: no API key.
API = Api(
    name="orders-api",
    stage="v1",
    rate_limit=50,
    burst_limit=100,
    route_limits=(
        RouteLimit("POST", "/orders", rate_limit=20, burst_limit=40),
        RouteLimit("POST", "/orders/{order_id}/cancel", rate_limit=10, burst_limit=20),
        RouteLimit("POST", "/inventory", rate_limit=5, burst_limit=10),
    ),
)

# Which function serves each operation of generated/openapi.json (from model/routes.json).
OPERATION_FUNCTIONS = {
    "placeOrder": "place_order",
    "cancelOrder": "cancel_order",
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

# A charge normally leaves the payment queue within seconds; one still there after 10 minutes
# has failed about three times (a receive every visibility timeout) or nobody is consuming.
PAYMENT_WAIT_ALARM_SECONDS = 600


ALARM_METRICS: dict[str, AlarmMetric] = {
    "dlq_depth": AlarmMetric("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "Maximum"),
    "oldest_message_age": AlarmMetric("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "Maximum"),
    "iterator_age": AlarmMetric("AWS/Lambda", "IteratorAge", "FunctionName", "Maximum"),
    "api_5xx": AlarmMetric("AWS/ApiGateway", "5XXError", "ApiName", "Sum"),
    "errors": AlarmMetric("AWS/Lambda", "Errors", "FunctionName", "Sum"),
    "throttles": AlarmMetric("AWS/Lambda", "Throttles", "FunctionName", "Sum"),
    # The projector's own metric, an EMF line of Powertools Metrics (streams/projector.py).
    "events_parked": AlarmMetric(
        COMMON_ENVIRONMENT["POWERTOOLS_METRICS_NAMESPACE"], "EventsParked", "service", "Sum"
    ),
}


def alarms() -> tuple[Alarm, ...]:
    found = [
        Alarm(f"{name}-not-empty", "dlq_depth", name, 0, f"Something is parked in {name}")
        for name in (queue.name for queue in QUEUES)
        if name in {parked.dead_letter for parked in parked_sources()}
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
    found.append(
        Alarm(
            "payment-oldest-message-age",
            "oldest_message_age",
            "payment",
            PAYMENT_WAIT_ALARM_SECONDS,
            f"An order has waited more than {PAYMENT_WAIT_ALARM_SECONDS // 60} minutes to be charged",
        )
    )
    found.append(Alarm("api-5xx", "api_5xx", API.name, 0, "The API answered 5xx"))
    # Every function, whatever triggers it: a failed migration or replay matters as much.
    found += [Alarm(f"{f.name}-errors", "errors", f.name, 0, f"{f.name} failed") for f in FUNCTIONS]
    found.append(
        Alarm(
            "projector-events-parked",
            "events_parked",
            "projector",
            0,
            "The projector or the reconciliation parked an event it could not apply: "
            "see parked_events, then redrive",
        )
    )
    found += [
        Alarm(f"{f.name}-throttles", "throttles", f.name, 0, f"{f.name} was throttled") for f in FUNCTIONS
    ]
    return tuple(found)


def schedule(name: str) -> Schedule:
    return next(s for s in SCHEDULES if s.name == name)


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def queue(name: str) -> Queue:
    return next(q for q in QUEUES if q.name == name)
