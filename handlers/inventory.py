"""After the payment outcome (EventBridge "Payment.Success" / "Payment.Failed"): settle the stock.

Paid: StockCommitted per SKU and OrderFulfilled. Failed: StockReleased per SKU (the heads give
the units back) and OrderCancelled. Order and SKU streams change in one transaction; the
order's new last event (OrderFulfilled or OrderCancelled) is what the notification function
e-mails about. A redelivered or duplicated event finds the order settled and changes nothing.
Any error raises: the rule invoked this function asynchronously, so Lambda retries it (twice)
and then parks the event in the function's dead-letter queue. (EventBridge's own retry policy
covers only delivering the event to Lambda.)
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.payment_outcome import received
from ordering import bootstrap
from ordering.services.settlement import settle_order

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = received(event, logger)
    written = settle_order(bootstrap.event_store(), outcome.order_id, outcome.paid, outcome.cause)
    types = [recorded.type for recorded in written]
    logger.info("Order settled" if written else "Order already settled", extra={"events": types})
    return {"order_id": outcome.order_id, "events": types}
