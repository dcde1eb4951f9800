"""Warm invocations with the I/O in memory: what our own code costs per invocation.

Each handler runs in this process through its production wiring, with ordering/bootstrap.py
overridden by the in-memory adapters (event store, leases, payment gateway, mailer,
publisher, read model), so that nearly all the time measured is ours: event parsing,
pydantic models, Powertools (logger, metrics, resolver, batch), the domain.
The baseline beside it, in the same run and interleaved, is the service call the handler
makes (ordering/services), on the same in-memory adapters: the ratio is the price of the
Lambda layer around the domain. Every invocation gets fresh state (its own order, user, SKU).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import aws_events, stats
from bench.report import Report, table
from generated.models import EmailKind
from infra import topology
from infra.emulator.aws import ACCOUNT_ID, REGION
from infra.emulator.queue_pump import lambda_message
from infra.emulator.rule_pump import eventbridge_event
from infra.emulator.worker import LambdaContext
from ordering import bootstrap
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.adapters.memory_leases import InMemoryLeases
from ordering.adapters.memory_mailer import InMemoryMailer
from ordering.adapters.memory_publisher import InMemoryPublisher
from ordering.adapters.memory_read_model import InMemoryReadModel
from ordering.adapters.table_items import event_item
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import NewEvent, Recorded, to_envelope
from ordering.domain.streams import order_stream
from ordering.domain.user import RegisterUser
from ordering.messaging import DETAIL_TYPES
from ordering.services import queries
from ordering.services.cancellation import cancel_for_customer
from ordering.services.deadline import expire_payment
from ordering.services.notifications import notify_customer
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.projection import project
from ordering.services.refunds import make_refund
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from ordering.services.users import register_user

SKU = "BENCH-MUG"
WARM_UP = 5


class Shop:
    """The in-memory adapters, wired into bootstrap, with a stocked SKU and a customer."""

    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.gateway = FakePaymentGateway()
        self.mailer = InMemoryMailer()
        self.publisher = InMemoryPublisher()
        self.read_model = InMemoryReadModel()
        self.leases = InMemoryLeases()
        self.user_id, self.email = str(uuid.uuid4()), "bench.customer@example.com"
        restock(self.store, SKU, 1_000_000, Decimal("7.50"), "EUR", Cause("bench-seed"))

    def wire(self) -> None:
        bootstrap.reset()
        bootstrap.override(
            event_store=self.store,
            payment_gateway=self.gateway,
            mailer=self.mailer,
            publisher=self.publisher,
            read_model=self.read_model,
            leases=self.leases,
        )

    def place(self, payment_deadline: datetime | None = None) -> Recorded:
        order_id = str(uuid.uuid4())
        command = PlaceOrder(
            order_id, self.user_id, self.email, (RequestedLine(SKU, 1),), payment_deadline=payment_deadline
        )
        place_order(self.store, command, Cause(f"bench-{order_id[:8]}"))
        return self.store.read(order_stream(order_id))[0]

    def paid(self) -> Recorded:
        placed = self.place()
        order_id = placed.data.order_id  # type: ignore[union-attr]
        record_payment(self.store, self.gateway, order_id, Cause(placed.correlation_id, placed.event_id))
        return self.store.read(order_stream(order_id))[-1]

    def fulfilled(self) -> Recorded:
        """A paid order the inventory function has fulfilled: its OrderFulfilled."""
        paid = self.paid()
        order_id = paid.data.order_id  # type: ignore[union-attr]
        settle_order(self.store, order_id, True, Cause(paid.correlation_id, paid.event_id))
        return self.store.read(order_stream(order_id))[-1]

    def overdue(self) -> Recorded:
        """An order placed with its payment deadline already passed: the deadline function cancels it."""
        return self.place(payment_deadline=datetime.now(UTC) - timedelta(seconds=1))

    def refund_requested(self) -> Recorded:
        """A paid order its customer cancelled: its RefundRequested waits for the refund function."""
        paid = self.paid()
        order_id = paid.data.order_id  # type: ignore[union-attr]
        cancel_for_customer(self.store, order_id, self.user_id, Cause(paid.correlation_id, paid.event_id))
        return self.store.read(order_stream(order_id))[-1]


# --- events, shaped as the local runtime shapes them -----------------------------------------------


def sqs_event(event: Recorded) -> dict[str, Any]:
    message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": uuid.uuid4().hex,
        "Body": json.dumps(to_envelope(event)),
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
        "MessageAttributes": {
            "correlation_id": {"DataType": "String", "StringValue": event.correlation_id},
            "event_id": {"DataType": "String", "StringValue": event.event_id},
        },
    }
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:payment"
    return {"Records": [lambda_message(message, queue_arn=arn, region=REGION)]}


def bus_event(event: Recorded) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPES[event.type],
        "source": topology.EVENT_SOURCE,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": to_envelope(event),
    }
    shaped = eventbridge_event(json.dumps(body), account_id=ACCOUNT_ID)
    assert shaped is not None
    return shaped


def stream_event(event: Recorded) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    new = NewEvent(event.data, event.event_id, event.occurred_at, event.correlation_id, event.causation_id)
    item = event_item(event.stream, event.version, new)
    image = {name: TypeSerializer().serialize(value) for name, value in item.items()}
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": str(time.time_ns()),
            "SizeBytes": len(json.dumps(image)),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/orders/stream/bench",
    }
    return {"Records": [record]}


# --- cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmCase:
    function: str
    event: Callable[[Shop], dict[str, Any]]  # fresh input for one handler invocation
    service: Callable[[Shop], Callable[[], Any]]  # the same work as one service call, ready to run
    succeeded: Callable[[Any], bool]


def _api_order(shop: Shop) -> dict[str, Any]:
    return aws_events.api_event(
        "POST",
        "/orders",
        resource="/orders",
        body={"lines": [{"sku": SKU, "quantity": 1}]},
        token_claims=aws_events.claims(shop.user_id, shop.email),
    )


def _order_service(shop: Shop) -> Callable[[], Any]:
    command = PlaceOrder(str(uuid.uuid4()), shop.user_id, shop.email, (RequestedLine(SKU, 1),))
    return lambda: place_order(shop.store, command, Cause("bench"))


def _api_events(shop: Shop) -> dict[str, Any]:
    order_id = shop.paid().data.order_id  # type: ignore[union-attr]
    return aws_events.api_event(
        "GET",
        f"/orders/{order_id}/events",
        resource="/orders/{order_id}/events",
        path_parameters={"order_id": order_id},
        token_claims=aws_events.claims(shop.user_id, shop.email),
    )


def _events_service(shop: Shop) -> Callable[[], Any]:
    order_id = shop.paid().data.order_id  # type: ignore[union-attr]
    return lambda: queries.order_history(shop.store, shop.user_id, order_id)


def _api_restock(shop: Shop) -> dict[str, Any]:
    admin = aws_events.claims(str(uuid.uuid4()), "bench.admin@example.com", admin=True)
    body = {"sku": f"B-{uuid.uuid4().hex[:8].upper()}", "quantity": 5, "price": "2.50", "currency": "EUR"}
    return aws_events.api_event("POST", "/inventory", resource="/inventory", body=body, token_claims=admin)


def _restock_service(shop: Shop) -> Callable[[], Any]:
    sku = f"B-{uuid.uuid4().hex[:8].upper()}"
    return lambda: restock(shop.store, sku, 5, Decimal("2.50"), "EUR", Cause("bench"))


def _cognito(shop: Shop) -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    event = {
        "version": "1",
        "region": REGION,
        "userPoolId": f"{REGION}_bench",
        "userName": user_id,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "bench"},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {"sub": user_id, "email": f"u{user_id[:8]}@example.com"}},
        "response": {},
    }
    return event


def _register_service(shop: Shop) -> Callable[[], Any]:
    user_id = str(uuid.uuid4())
    return lambda: register_user(shop.store, RegisterUser(user_id, f"u{user_id[:8]}@example.com"), Cause("b"))


def _payment_service(shop: Shop) -> Callable[[], Any]:
    placed = shop.place()
    order_id = placed.data.order_id  # type: ignore[union-attr]
    return lambda: record_payment(
        shop.store, shop.gateway, order_id, Cause(placed.correlation_id, placed.event_id)
    )


def _settle_service(shop: Shop) -> Callable[[], Any]:
    paid = shop.paid()
    order_id = paid.data.order_id  # type: ignore[union-attr]
    return lambda: settle_order(shop.store, order_id, True, Cause(paid.correlation_id, paid.event_id))


def _notify_service(shop: Shop) -> Callable[[], Any]:
    fulfilled = shop.fulfilled()
    order_id = fulfilled.data.order_id  # type: ignore[union-attr]
    cause = Cause(fulfilled.correlation_id, fulfilled.event_id)
    kind = EmailKind.order_confirmation
    return lambda: notify_customer(
        shop.store,
        shop.mailer,
        shop.leases,
        order_id,
        kind,
        cause,
        until=datetime.now(UTC) + timedelta(hours=1),
    )


def _publish_service(shop: Shop) -> Callable[[], Any]:
    placed = shop.place()
    return lambda: shop.publisher.to_payment_queue([placed])


def _project_service(shop: Shop) -> Callable[[], Any]:
    placed = shop.place()
    return lambda: project(shop.read_model, shop.store.read, placed)


def _api_cancel(shop: Shop) -> dict[str, Any]:
    order_id = shop.place().data.order_id  # type: ignore[union-attr]
    return aws_events.api_event(
        "POST",
        f"/orders/{order_id}/cancel",
        resource="/orders/{order_id}/cancel",
        path_parameters={"order_id": order_id},
        body={},
        token_claims=aws_events.claims(shop.user_id, shop.email),
    )


def _cancel_service(shop: Shop) -> Callable[[], Any]:
    order_id = shop.place().data.order_id  # type: ignore[union-attr]
    return lambda: cancel_for_customer(shop.store, order_id, shop.user_id, Cause("bench"))


def _deadline_service(shop: Shop) -> Callable[[], Any]:
    placed = shop.overdue()
    order_id = placed.data.order_id  # type: ignore[union-attr]
    cause = Cause(placed.correlation_id, placed.event_id)
    return lambda: expire_payment(shop.store, order_id, datetime.now(UTC), cause)


def _refund_service(shop: Shop) -> Callable[[], Any]:
    requested = shop.refund_requested()
    data = requested.data
    cause = Cause(requested.correlation_id, requested.event_id)
    return lambda: make_refund(shop.store, shop.gateway, data.order_id, data.payment_reference, cause)  # type: ignore[union-attr]


def _status(code: int) -> Callable[[Any], bool]:
    return lambda result: isinstance(result, dict) and result.get("statusCode") == code


def _no_failures(result: Any) -> bool:
    return isinstance(result, dict) and result.get("batchItemFailures") == []


CASES: tuple[WarmCase, ...] = (
    WarmCase("place_order", _api_order, _order_service, _status(202)),
    WarmCase("query_orders", _api_events, _events_service, _status(200)),
    WarmCase("restock", _api_restock, _restock_service, _status(200)),
    WarmCase("cancel_order", _api_cancel, _cancel_service, _status(200)),
    WarmCase("register_user", _cognito, _register_service, lambda r: isinstance(r, dict) and "request" in r),
    WarmCase("payment", lambda shop: sqs_event(shop.place()), _payment_service, _no_failures),
    WarmCase(
        "inventory",
        lambda shop: bus_event(shop.paid()),
        _settle_service,
        lambda r: isinstance(r, dict) and "OrderFulfilled" in r.get("events", []),
    ),
    WarmCase(
        "notification",
        lambda shop: bus_event(shop.fulfilled()),
        _notify_service,
        lambda r: isinstance(r, dict) and bool(r.get("message_id")),
    ),
    WarmCase("payment_deadline", lambda shop: sqs_event(shop.overdue()), _deadline_service, _no_failures),
    WarmCase("refund", lambda shop: sqs_event(shop.refund_requested()), _refund_service, _no_failures),
    WarmCase("publisher", lambda shop: stream_event(shop.place()), _publish_service, _no_failures),
    WarmCase("projector", lambda shop: stream_event(shop.place()), _project_service, _no_failures),
)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """The functions' log lines (Powertools writes them to stdout) go nowhere while we measure."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _context(function: topology.Function) -> LambdaContext:
    return LambdaContext(
        function_name=function.name,
        memory_limit_in_mb=function.memory_mb,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.name}",
        aws_request_id=str(uuid.uuid4()),
        deadline_ms=int((time.time() + function.timeout_seconds) * 1000),
    )


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 1)


def measure_case(case: WarmCase, shop: Shop, invocations: int) -> dict[str, Any]:
    function = topology.function(case.function)
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    ours: list[float] = []
    baseline: list[float] = []
    for n in range(WARM_UP + invocations):
        event, call = case.event(shop), case.service(shop)
        context = _context(function)
        started = time.perf_counter()
        result = handler(event, context)
        handled = time.perf_counter()
        if not case.succeeded(result):
            raise RuntimeError(f"{function.handler} failed a warm invocation: {result!r}")
        began = time.perf_counter()
        call()
        served = time.perf_counter()
        if n >= WARM_UP:
            ours.append(handled - started)
            baseline.append(served - began)
    return {
        "function": case.function,
        "invocations": invocations,
        "ours_p50_us": _us(stats.percentile(ours, 50)),
        "ours_p99_us": _us(stats.percentile(ours, 99)),
        "service_p50_us": _us(stats.percentile(baseline, 50)),
        "service_p99_us": _us(stats.percentile(baseline, 99)),
        "ratio_p50": round(stats.ratio(stats.percentile(ours, 50), stats.percentile(baseline, 50)), 2),
    }


def run(report: Report, *, invocations: int, functions: list[str] | None = None) -> Report:
    for name, value in topology.COMMON_ENVIRONMENT.items():
        os.environ.setdefault(name, value)  # before the handlers are imported: Powertools reads them then
    cases = [c for c in CASES if functions is None or c.function in functions]
    results = []
    try:
        with _quiet_stdout():
            for case in cases:
                shop = Shop()
                shop.wire()
                results.append(measure_case(case, shop, invocations))
    finally:
        bootstrap.reset()
    report.results["warm"] = results
    rows = [
        [
            r["function"],
            r["ours_p50_us"],
            r["ours_p99_us"],
            r["service_p50_us"],
            r["service_p99_us"],
            f"{r['ratio_p50']}x",
        ]
        for r in results
    ]
    report.add(
        f"### Warm invocations, I/O in memory: {invocations} per side\n\n"
        + table(
            [
                "function",
                "handler p50 µs",
                "handler p99 µs",
                "service p50 µs",
                "service p99 µs",
                "p50 / service",
            ],
            rows,
        )
    )
    return report
