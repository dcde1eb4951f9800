"""POST /inventory (members of the Cognito group `admin` only): add stock to a SKU, set its price
and, optionally, how many shards its stock is split into.

Records StockAdded and, when the price or currency changes, PriceChanged (when the shards
change, StockSharded, and StockMoved to spread the units), together with the SKU's heads, in
one transaction; answers 200 with the SKU as it now is, summed over its shards. Anyone else
gets 403.
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
    heads = restock(
        bootstrap.event_store(),
        request.sku,
        request.quantity,
        parse_money(request.price),
        request.currency,
        Cause(correlation_id),
        shards=request.shards if isinstance(request.shards, int) else None,
    )
    answer = inventory_item(heads)
    logger.info(
        "Restocked",
        extra={
            "sku": answer.sku,
            "added": request.quantity,
            "available": answer.available,
            "shards": answer.shards,
        },
    )
    return http.answer(200, answer, correlation_id)


def inventory_item(heads: list[InventoryItem]) -> m.InventoryItem:
    """The SKU as a whole: its stock summed over its shards, the catalog (shard 0) for the rest."""
    catalog = heads[0]
    if catalog.price is None or catalog.currency is None:  # a restock always sets them
        raise ValueError(f"SKU {catalog.sku} has no price after a restock")
    return m.InventoryItem(
        sku=catalog.sku,
        available=sum(head.available for head in heads),
        reserved=sum(head.reserved for head in heads),
        committed=sum(head.committed for head in heads),
        price=format_money(catalog.price),
        currency=catalog.currency,
        shards=catalog.shards,
        version=catalog.version,
    )


snapstart.prepare(bootstrap.event_store)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(http.correlation_id_of(APIGatewayProxyEvent(event)))
    return app.resolve(event, context)
