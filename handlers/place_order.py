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
from typing import Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated import models as m
from handlers import http, snapstart
from handlers.once import run_once, store_for
from ordering import bootstrap
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.services.place_order import place_order
from ordering.services.retry import RetryPolicy
from ordering.services.stamp import Cause

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
    http.check_correlation_header(event)
    correlation_id = http.correlation_id_of(event)
    caller = http.caller_of(event)
    request = http.body_of(event, m.PlaceOrderRequest)
    key = http.idempotency_key_of(event)
    logger.append_keys(user_id=caller.user_id)

    order = {"user_id": caller.user_id, "email": caller.email, "request": request.model_dump(mode="json")}
    where = {"correlation_id": correlation_id, "orders_path": http.request_path(event)}
    if key is None:
        accepted = accept_order(payload=order, **where)
    else:
        accepted = _accept_once(order | {"idempotency_key": key}, key, **where)
    body = m.OrderAccepted.model_validate(accepted)
    return http.answer(202, body, correlation_id, {"Location": body.url})


def accept_order(payload: dict[str, Any], *, correlation_id: str, orders_path: str) -> dict[str, Any]:
    """Place the order and return the OrderAccepted body. With a key, this runs once per key."""
    request = m.PlaceOrderRequest.model_validate(payload["request"])
    reference = request.client_reference
    command = PlaceOrder(
        order_id=str(uuid.uuid4()),
        user_id=payload["user_id"],
        email=payload["email"],
        lines=tuple(RequestedLine(line.sku, line.quantity) for line in request.lines),
        client_reference=reference if isinstance(reference, str) else None,
    )
    attempts = bootstrap.settings().place_order_max_attempts
    placed = place_order(
        bootstrap.event_store(), command, Cause(correlation_id), retry=RetryPolicy(attempts=attempts)
    )
    order = placed.order_placed
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    logger.info(
        "Order placed", extra={"order_id": order.order_id, "total": order.total, "currency": order.currency}
    )
    url = f"{orders_path.rstrip('/')}/{placed.order_id}"
    return m.OrderAccepted(order_id=placed.order_id, status="PENDING", url=url).model_dump(mode="json")


def _accept_once(payload: dict[str, Any], key: str, **where: str) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # on first use: it imports boto3
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    try:
        return run_once(
            accept_order,
            payload=payload,
            key="[user_id, idempotency_key]",
            validate="request",
            context=app.lambda_context,
            **where,
        )
    except IdempotencyValidationError:
        raise http.HttpProblem(
            422,
            http.Code.idempotency_key_reused,
            f"The Idempotency-Key {key!r} was already used for another order body; "
            "send a new key for a new order",
            [
                m.FieldError(
                    field=f"headers.{http.IDEMPOTENCY_HEADER}", message=f"{key!r} was used with another body"
                )
            ],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise http.HttpProblem(
            409,
            http.Code.conflict,
            f"A request with the Idempotency-Key {key!r} is still being processed; retry shortly",
        ) from None


snapstart.prepare(bootstrap.event_store, lambda: store_for(accept_order))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(http.correlation_id_of(APIGatewayProxyEvent(event)))
    return app.resolve(event, context)
