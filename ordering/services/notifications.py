"""E-mail the customer about the order's outcome, once, and record that it was sent.

The e-mail leaves before ConfirmationSent can be written, so the order's log alone cannot keep
two deliveries of the same outcome from both sending. The sender first claims a lease on the
order's notice until its own deadline, then reads the order: a redelivery finds
ConfirmationSent and sends nothing; a delivery that finds the lease held and the e-mail not yet
recorded raises NoticeInProgress, and its trigger retries it later. Reading after the claim
means a holder sees every e-mail recorded by the holders before it (each wrote before its
lease ran out). A failure after the claim releases it, so that the retry need not wait; a mail
service error propagates, so that the trigger is retried and finally dead-lettered. An e-mail
sent whose ConfirmationSent then failed to be written is sent again: at least once, never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from generated.models import EmailKind
from ordering.domain.errors import NotFound
from ordering.domain.order import Order, RecordConfirmationSent, cancellation_email, email_due
from ordering.ports.event_store import EventStore
from ordering.ports.leases import Leases
from ordering.ports.mailer import Mailer
from ordering.services.emails import compose
from ordering.services.loading import load_order
from ordering.services.order_commands import record_on_order
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.stamp import Cause


class NoticeInProgress(Exception):
    """Another delivery holds the order's notice and has not recorded its e-mail yet: retry later."""


def notify_customer(
    store: EventStore,
    mailer: Mailer,
    leases: Leases,
    order_id: str,
    kind: EmailKind,
    cause: Cause,
    *,
    until: datetime,
    recorder: Recorder = DEFAULT,
) -> str | None:
    """The message id of the e-mail sent, or None when it had been sent already. `until`: when
    this sender's invocation ends for good (the lease lasts that long)."""
    return _send(store, mailer, leases, cause, until, recorder, order_id, kind.value, lambda _: kind)[1]


def notify_cancellation(
    store: EventStore,
    mailer: Mailer,
    leases: Leases,
    order_id: str,
    cause: Cause,
    *,
    until: datetime,
    recorder: Recorder = DEFAULT,
) -> tuple[EmailKind, str | None]:
    """The e-mail a cancelled order calls for (`cancellation_email`), and its message id as
    notify_customer gives it."""
    return _send(store, mailer, leases, cause, until, recorder, order_id, "cancellation", cancellation_email)


def _send(
    store: EventStore,
    mailer: Mailer,
    leases: Leases,
    cause: Cause,
    until: datetime,
    recorder: Recorder,
    order_id: str,
    topic: str,
    kind_of: Callable[[Order], EmailKind],
) -> tuple[EmailKind, str | None]:
    lease = leases.claim(f"notice#{order_id}#{topic}", until=until)
    try:
        current = load_order(store, order_id)
        if current is None:
            raise NotFound(f"order {order_id}")
        kind = kind_of(current)
        # Refuses (InvalidTransition) before sending when the order is not in a state for this e-mail.
        if not email_due(current, kind):
            return kind, None
        if lease is None:
            raise NoticeInProgress(f"the {kind.value} e-mail of order {order_id} is being sent")
        message_id = mailer.send(compose(current, kind, cause.correlation_id))
        command = RecordConfirmationSent(current.id, kind, current.email, message_id)
        record_on_order(store, current, command, cause, recorder=recorder)
    except Exception:
        if lease is not None:
            leases.release(lease)
        raise
    return kind, message_id
