"""POST /orders/{order_id}/cancel: the customer cancels their order.

PENDING: cancelled at once, its stock released, nothing charged (200, CANCELLED); a payment
message already in flight finds the order cancelled and charges nothing, or, if its charge
raced the cancel, that charge is refunded. PAID and not yet fulfilled: a refund is requested
(202, REFUND_PENDING); the refund function cancels the order and releases the stock once the
money is back. FULFILLED or CANCELLED: 409 not_cancellable. Another user's order is 404,
exactly like a missing one.

With an `Idempotency-Key` header the first answer for (caller, key) is stored, as on
POST /orders: a repeated cancel of an order it cancelled gets that answer again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated import models as m
from handlers import http, snapstart
from handlers.once import run_once_per_key
from ordering import bootstrap
from ordering.domain.errors import NotCancellable
from ordering.domain.order import Status
from ordering.services.cancellation import cancel_for_customer
from ordering.services.queries import InvalidQuery, parse_uuid
from ordering.services.stamp import Cause

app = APIGatewayRestResolver()
logger = Logger()
metrics = Metrics()
http.install_error_answers(app, logger)


@app.exception_handler(NotCancellable)
def _not_cancellable(error: NotCancellable) -> Response:
    problem = http.HttpProblem(
        409,
        http.Code.not_cancellable,
        f"Order {error.order_id} is {error.state} and can no longer be cancelled",
    )
    return http.error_answer(problem, http.correlation_id_of(app.current_event))


@app.exception_handler(InvalidQuery)
def _invalid_order_id(error: InvalidQuery) -> Response:
    problem = http.bad_request(str(error), error.field, str(error))
    return http.error_answer(problem, http.correlation_id_of(app.current_event))


@dataclass(frozen=True)
class CancelRequest:
    user_id: str
    order_id: str
    idempotency_key: str | None = None


@app.post("/orders/<order_id>/cancel")
def post_cancel(order_id: str) -> Response:
    event = app.current_event
    correlation_id, caller = http.request_of(event, logger)
    http.body_of(event, m.CancelOrderRequest)
    request = CancelRequest(caller.user_id, parse_uuid("order_id", order_id), http.idempotency_key_of(event))
    logger.append_keys(order_id=request.order_id)
    orders_path = http.request_path(event).rsplit("/", 2)[0]
    where = {"correlation_id": correlation_id, "orders_path": orders_path}
    key = request.idempotency_key
    if key is None:
        cancelled = cancel_once(payload=request, **where)
    else:
        cancelled = _cancel_with_key(request, key, **where)
    status = 202 if cancelled.status == Status.REFUND_PENDING.value else 200
    return http.answer(status, cancelled, correlation_id)


def _cancel_with_key(request: CancelRequest, key: str, **where: str) -> m.Cancellation:
    return run_once_per_key(
        cancel_once,
        payload=request,
        idempotency_key=key,
        validate="order_id",
        answer=m.Cancellation,
        context=app.lambda_context,
        reused_for="another order",
        **where,
    )


def cancel_once(payload: CancelRequest, *, correlation_id: str, orders_path: str) -> m.Cancellation:
    """Cancel (or start refunding) the order; with a key, this runs once per key."""
    after = cancel_for_customer(
        bootstrap.event_store(), payload.order_id, payload.user_id, Cause(correlation_id)
    )
    metrics.add_metric(name="OrdersCancelledByCustomer", unit=MetricUnit.Count, value=1)
    logger.info("Order cancel accepted", extra={"status": after.status.value})
    return m.Cancellation(
        order_id=after.id,
        status=after.status.value,
        refund=after.refund_requested,
        url=f"{orders_path.rstrip('/')}/{after.id}",
    )


snapstart.prepare(bootstrap.event_store)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(http.correlation_id_of(APIGatewayProxyEvent(event)))
    return app.resolve(event, context)
