"""Names on the wire between the stream publisher and its consumers, and the admin group.

infra/topology.py imports them for the rules that route these and the user pool's group
(streams/ and handlers/ may not import infra).
"""

from __future__ import annotations

ADMIN_GROUP = "admin"  # the Cognito group whose members may restock

EVENT_SOURCE = "orders"  # EventBridge `source` of every event the publisher puts
PAYMENT_SUCCEEDED = "Payment.Success"
PAYMENT_FAILED = "Payment.Failed"
ORDER_FULFILLED = "Order.Fulfilled"
ORDER_CANCELLED = "Order.Cancelled"
DETAIL_TYPES = {
    "PaymentSucceeded": PAYMENT_SUCCEEDED,
    "PaymentFailed": PAYMENT_FAILED,
    "OrderFulfilled": ORDER_FULFILLED,
    "OrderCancelled": ORDER_CANCELLED,
}
# Event types and where the publisher sends them; every other type stays in the log only.
TO_PAYMENT_QUEUE = frozenset({"OrderPlaced"})
TO_DEADLINE_QUEUE = frozenset({"OrderPlaced"})  # delayed until the order's payment deadline
TO_REFUND_QUEUE = frozenset({"RefundRequested"})
TO_EVENT_BUS = frozenset(DETAIL_TYPES)
# SQS holds a message back at most this long (DelaySeconds): the longest payment deadline.
MAX_DELAY_SECONDS = 900
# SQS message attributes of a payment request.
CORRELATION_ID_ATTRIBUTE = "correlation_id"
EVENT_ID_ATTRIBUTE = "event_id"
