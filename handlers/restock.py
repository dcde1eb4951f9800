"""POST /inventory (members of the Cognito group `admin` only): add stock to a SKU and set its price.

Records StockAdded and, when the price or currency changes, PriceChanged, together with the
SKU's head, in one transaction; answers 200 with the SKU as it now is. Anyone else gets 403.
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
from ordering.domain.inventory import InventoryItem
from ordering.domain.money import format_money, parse_money
from ordering.services.restock import restock
from ordering.services.stamp import Cause

app = APIGatewayRestResolver()
logger = Logger()
http.install_error_answers(app, logger)


@app.post("/inventory")
def post_inventory() -> Response:
    event = app.current_event
    correlation_id, caller = http.request_of(event, logger)
    if not caller.is_admin:
        raise http.HttpProblem(
            403, http.Code.forbidden, f"Only members of the group {http.ADMIN_GROUP} may restock"
        )
    request = http.body_of(event, m.Restock)
    item = restock(
        bootstrap.event_store(),
        request.sku,
        request.quantity,
        parse_money(request.price),
        request.currency,
        Cause(correlation_id),
    )
    logger.info("Restocked", extra={"sku": item.sku, "added": request.quantity, "available": item.available})
    return http.answer(200, inventory_item(item), correlation_id)


def inventory_item(item: InventoryItem) -> m.InventoryItem:
    if item.price is None or item.currency is None:  # a restock always sets them
        raise ValueError(f"SKU {item.sku} has no price after a restock")
    return m.InventoryItem(
        sku=item.sku,
        available=item.available,
        reserved=item.reserved,
        committed=item.committed,
        price=format_money(item.price),
        currency=item.currency,
        version=item.version,
    )


snapstart.prepare(bootstrap.event_store)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(http.correlation_id_of(APIGatewayProxyEvent(event)))
    return app.resolve(event, context)
