"""E-mail the customer about the order's outcome, once, and record that it was sent.

A redelivered trigger finds ConfirmationSent in the order's stream and sends nothing. A mail
service error propagates, so that the trigger is retried and finally dead-lettered.
"""

from __future__ import annotations

from generated.models import EmailKind
from ordering.domain.errors import NotFound
from ordering.domain.order import Order, RecordConfirmationSent, cancellation_email, email_due
from ordering.ports.event_store import EventStore
from ordering.ports.mailer import Mailer
from ordering.services.emails import compose
from ordering.services.loading import load_order
from ordering.services.order_commands import record_on_order
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.stamp import Cause


def notify_customer(
    store: EventStore,
    mailer: Mailer,
    order_id: str,
    kind: EmailKind,
    cause: Cause,
    *,
    recorder: Recorder = DEFAULT,
) -> str | None:
    """The message id of the e-mail sent, or None when it had been sent already."""
    return _notify(store, mailer, _load(store, order_id), kind, cause, recorder)


def notify_cancellation(
    store: EventStore, mailer: Mailer, order_id: str, cause: Cause, *, recorder: Recorder = DEFAULT
) -> tuple[EmailKind, str | None]:
    """The e-mail a cancelled order calls for (`cancellation_email`), and its message id as
    notify_customer gives it."""
    current = _load(store, order_id)
    kind = cancellation_email(current)
    return kind, _notify(store, mailer, current, kind, cause, recorder)


def _load(store: EventStore, order_id: str) -> Order:
    current = load_order(store, order_id)
    if current is None:
        raise NotFound(f"order {order_id}")
    return current


def _notify(
    store: EventStore, mailer: Mailer, current: Order, kind: EmailKind, cause: Cause, recorder: Recorder
) -> str | None:
    # Refuses (InvalidTransition) before sending when the order is not in a state for this e-mail.
    if not email_due(current, kind):
        return None
    message_id = mailer.send(compose(current, kind, cause.correlation_id))
    command = RecordConfirmationSent(current.id, kind, current.email, message_id)
    record_on_order(store, current, command, cause, recorder=recorder)
    return message_id
