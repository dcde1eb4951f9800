"""GET /orders, /orders/{order_id}, /orders/{order_id}/events: the caller's order history.

Orders come from the read model (Postgres); an order's events come from the log itself.
The caller is the token's subject; another user's order is answered exactly like a missing
one (404), so that ids cannot be probed. Parameters are checked before anything is read:
a bad limit, cursor or order id is a 400 naming the field. Every answer is built as the
generated response type (OrderPage, Order, OrderEventList or Error).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated import models as m
from handlers import http, snapstart
from ordering import bootstrap
from ordering.domain.money import format_money
from ordering.domain.order import Order
from ordering.domain.recorded import format_timestamp, to_envelope
from ordering.services import queries
from ordering.services.queries import InvalidQuery

app = APIGatewayRestResolver()
logger = Logger()
http.install_error_answers(app, logger)


@app.exception_handler(InvalidQuery)
def _invalid_query(error: InvalidQuery) -> Response:
    problem = http.bad_request(str(error), error.field, str(error))
    return http.error_answer(problem, http.correlation_id_of(app.current_event))


def order_body(order: Order) -> m.Order:
    return m.Order(
        id=order.id,
        status=order.status,
        lines=[
            m.PricedLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=format_money(line.unit_price),
                line_total=format_money(line.line_total),
            )
            for line in order.lines
        ],
        total=format_money(order.total),
        currency=order.currency,
        created_at=format_timestamp(order.created_at),
        updated_at=format_timestamp(order.updated_at),
        **({"client_reference": order.client_reference} if order.client_reference else {}),
    )


@app.get("/orders")
def list_orders() -> Response:
    event = app.current_event
    caller = http.caller_of(event)
    logger.append_keys(user_id=caller.user_id)
    limit = queries.parse_limit(event.get_query_string_value("limit"))
    page = queries.list_orders(
        bootstrap.read_model(), caller.user_id, limit=limit, cursor=event.get_query_string_value("cursor")
    )
    body = m.OrderPage(orders=[order_body(order) for order in page.orders], next_cursor=page.next_cursor)
    return http.answer(200, body, http.correlation_id_of(event))


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    event = app.current_event
    caller = http.caller_of(event)
    logger.append_keys(user_id=caller.user_id)
    order = queries.get_order(
        bootstrap.read_model(), caller.user_id, queries.parse_uuid("order_id", order_id)
    )
    return http.answer(200, order_body(order), http.correlation_id_of(event))


@app.get("/orders/<order_id>/events")
def list_order_events(order_id: str) -> Response:
    event = app.current_event
    caller = http.caller_of(event)
    logger.append_keys(user_id=caller.user_id)
    history = queries.order_history(
        bootstrap.event_store(), caller.user_id, queries.parse_uuid("order_id", order_id)
    )
    body = m.OrderEventList(
        order_id=order_id,
        events=[m.EventEnvelope.model_validate(to_envelope(recorded)) for recorded in history],
    )
    return http.answer(200, body, http.correlation_id_of(event))


snapstart.prepare(bootstrap.event_store, bootstrap.read_model)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(http.correlation_id_of(APIGatewayProxyEvent(event)))
    return app.resolve(event, context)
