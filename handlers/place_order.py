"""POST /orders: price the order, reserve its stock and record it in one transaction; answer 202.

The caller comes from the Cognito authorizer's claims, the body is parsed with the generated
PlaceOrderRequest, `place_order` decides and writes, and a refusal becomes a 4xx by its type
(handlers/http.py). Payment follows asynchronously from the OrderPlaced event.

With an `Idempotency-Key` header, the first successful answer for (caller, key) is stored in
the event table and a retried request gets it back without placing a second order; the same
key with another body is refused with 422. A refused request wrote nothing, so its retry is
simply decided again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated import models as m
from handlers import http, snapstart
from handlers.once import run_once_per_key, store_for
from ordering import bootstrap
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.services.place_order import place_order
from ordering.services.recording import Recorder
from ordering.services.retry import RetryPolicy
from ordering.services.stamp import Cause, Stamp

app = APIGatewayRestResolver()
logger = Logger()
metrics = Metrics()


def _count_refusal(problem: http.HttpProblem) -> None:
    with single_metric(
        name="OrdersRejected", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
    ) as metric:
        metric.add_dimension(name="reason", value=problem.code.value)


http.install_error_answers(app, logger, on_problem=_count_refusal)


@app.post("/orders")
def post_order() -> Response:
    event = app.current_event
    correlation_id, caller = http.request_of(event, logger)
    request = http.body_of(event, m.PlaceOrderRequest)
    key = http.idempotency_key_of(event)

    order = OrderRequest(caller.user_id, caller.email, request, key)
    where = {"correlation_id": correlation_id, "orders_path": http.request_path(event)}
    accepted = accept_order(payload=order, **where) if key is None else _accept_once(order, key, **where)
    return http.answer(202, accepted, correlation_id, {"Location": accepted.url})


@dataclass(frozen=True)
class OrderRequest:
    """Who asks for which order: what is placed, and with a key, what is remembered by the key."""

    user_id: str
    email: str
    request: m.PlaceOrderRequest
    idempotency_key: str | None = None


def accept_order(payload: OrderRequest, *, correlation_id: str, orders_path: str) -> m.OrderAccepted:
    """Place the order and return the OrderAccepted body. With a key, this runs once per key."""
    reference = payload.request.client_reference
    settings = bootstrap.settings()
    clock = bootstrap.clock()
    recorder = Recorder(Stamp(clock=clock), RetryPolicy(attempts=settings.place_order_max_attempts))
    command = PlaceOrder(
        order_id=str(uuid.uuid4()),
        user_id=payload.user_id,
        email=payload.email,
        lines=tuple(RequestedLine(line.sku, line.quantity) for line in payload.request.lines),
        client_reference=reference if isinstance(reference, str) else None,
        payment_deadline=clock() + timedelta(seconds=settings.payment_deadline_seconds),
    )
    placed = place_order(
        bootstrap.event_store(),
        command,
        Cause(correlation_id),
        recorder=recorder,
        spans=bootstrap.shard_spans(),
    )
    order = placed.order_placed
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PlacementConflictRetries", unit=MetricUnit.Count, value=placed.conflict_retries)
    logger.info(
        "Order placed", extra={"order_id": order.order_id, "total": order.total, "currency": order.currency}
    )
    if placed.conflict_retries:  # the signal to shard a hot SKU (docs/benchmarks.md §5)
        logger.warning(
            "Placement lost races on its SKU heads",
            extra={"skus": [line.sku for line in order.lines], "conflict_retries": placed.conflict_retries},
        )
    url = f"{orders_path.rstrip('/')}/{placed.order_id}"
    return m.OrderAccepted(order_id=placed.order_id, status="PENDING", url=url)


def _accept_once(payload: OrderRequest, key: str, **where: str) -> m.OrderAccepted:
    return run_once_per_key(
        accept_order,
        payload=payload,
        idempotency_key=key,
        validate="request",
        answer=m.OrderAccepted,
        context=app.lambda_context,
        reused_for="another order body",
        **where,
    )


snapstart.prepare(bootstrap.event_store, lambda: store_for(accept_order))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(http.correlation_id_of(APIGatewayProxyEvent(event)))
    return app.resolve(event, context)
