"""E-mail the customer about the payment outcome, once, and record that it was sent.

A redelivered trigger finds ConfirmationSent in the order's stream and sends nothing. A mail
service error propagates, so that the trigger is retried and finally dead-lettered.
"""

from __future__ import annotations

from generated.models import EmailKind
from ordering.domain import order
from ordering.domain.errors import NotFound
from ordering.domain.order import RecordConfirmationSent
from ordering.ports.event_store import EventStore
from ordering.ports.mailer import Mailer
from ordering.services.emails import compose
from ordering.services.loading import load_order
from ordering.services.order_commands import record_on_order
from ordering.services.retry import RetryPolicy
from ordering.services.stamp import Cause, Stamp


def notify_customer(
    store: EventStore,
    mailer: Mailer,
    order_id: str,
    kind: EmailKind,
    cause: Cause,
    *,
    stamp: Stamp | None = None,
    retry: RetryPolicy | None = None,
) -> str | None:
    """The message id of the e-mail sent, or None when it had been sent already."""
    stamp = stamp or Stamp()
    current = load_order(store, order_id)
    if current is None:
        raise NotFound(f"order {order_id}")
    if kind in current.emails_sent:
        return None
    # Refuses (InvalidTransition) before sending when the order is not in a state for this e-mail.
    order.decide(current, RecordConfirmationSent(order_id, kind, current.email, "not-yet-sent"))
    message_id = mailer.send(compose(current, kind, cause.correlation_id))
    command = RecordConfirmationSent(order_id, kind, current.email, message_id)

    record_on_order(store, current, command, cause, stamp=stamp, retry=retry or RetryPolicy())
    return message_id
