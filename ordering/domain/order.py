"""The Order aggregate (docs/architecture.md draws it):

  PENDING -> PAID -> FULFILLED
  PENDING -> PAYMENT_FAILED -> CANCELLED           the charge was declined
  PENDING -> CANCELLED                             payment_timeout, or the customer cancelled
  PAID -> REFUND_PENDING -> CANCELLED              the customer cancelled; refunded, then cancelled
  CANCELLED (+ RefundRequested -> PaymentRefunded) a charge that raced the cancellation

A command that asks for the state the order is already in (a redelivered message) decides
no events; any other transition the lifecycle does not allow is an InvalidTransition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from generated import models as m
from ordering.domain.changed import changed
from ordering.domain.errors import InvalidTransition, NotCancellable, NotFound
from ordering.domain.events import DomainEvent
from ordering.domain.money import format_money, parse_money
from ordering.domain.recorded import Recorded, parse_timestamp

Status = m.OrderStatus


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class Reservation:
    """Units of a SKU this order holds in one shard of it (settlement commits or releases there)."""

    sku: str
    shard: int
    quantity: int


@dataclass(frozen=True)
class Order:
    id: str
    user_id: str
    email: str
    status: Status
    lines: tuple[OrderLine, ...]
    total: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    version: int
    client_reference: str | None = None
    payment_reference: str | None = None
    failure_reason: str | None = None
    emails_sent: frozenset[m.EmailKind] = frozenset()
    # Where the stock was reserved, when not all of it from shard 0 (OrderPlaced.reserved_from).
    # Only the log keeps it: the read model's rows do not, and settlement reads the log.
    reserved_from: tuple[Reservation, ...] = ()

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        """Every reservation the order holds: each line from shard 0 unless recorded otherwise."""
        return self.reserved_from or tuple(Reservation(line.sku, 0, line.quantity) for line in self.lines)

    payment_deadline: datetime | None = None
    cancel_reason: str | None = None
    refund_requested: bool = False
    refunded: bool = False
    charge_unanswered: bool = False  # a charge may have gone through without an answer


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordPayment:
    """The gateway answered: charged (reference) or declined (reason)."""

    order_id: str
    succeeded: bool
    payment_reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RecordChargeUnanswered:
    """The gateway did not answer a charge: it may have charged."""

    order_id: str
    reason: str


@dataclass(frozen=True)
class FulfilOrder:
    order_id: str


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str


@dataclass(frozen=True)
class ExpirePayment:
    """The payment deadline timer fired at `now`: cancel the order if it is still unpaid."""

    order_id: str
    now: datetime


@dataclass(frozen=True)
class CustomerCancel:
    """The customer asked to cancel: unpaid orders are cancelled, paid ones refunded first."""

    order_id: str


@dataclass(frozen=True)
class RecordRefund:
    """The gateway refunded the order's charge (reference: the gateway's id of the refund)."""

    order_id: str
    refund_reference: str


@dataclass(frozen=True)
class RecordConfirmationSent:
    order_id: str
    kind: m.EmailKind
    recipient: str
    message_id: str


OrderCommand = (
    RecordPayment
    | RecordChargeUnanswered
    | FulfilOrder
    | CancelOrder
    | ExpirePayment
    | CustomerCancel
    | RecordRefund
    | RecordConfirmationSent
)
PAYMENT_TIMEOUT = "payment_timeout"
CUSTOMER_CANCELLED = "customer_cancelled"
LATE_PAYMENT = "late_payment"

# Which e-mail belongs to which outcome, and in which states it may be recorded.
EMAIL_STATES = {
    m.EmailKind.order_confirmation: {Status.PAID, Status.FULFILLED},
    m.EmailKind.payment_failed: {Status.PAYMENT_FAILED, Status.CANCELLED},
    m.EmailKind.order_cancelled: {Status.CANCELLED},
}


def refund_id_of(order_id: str) -> str:
    """An order is refunded at most once, in full: its refund id (the gateway's idempotency key)
    follows from the order id, so that however often a refund is requested it is made once."""
    return str(uuid5(NAMESPACE_URL, f"orders:refund:{order_id}"))


def decide(state: Order | None, command: OrderCommand) -> list[DomainEvent]:
    """The events a command causes on an existing order. Placing an order is decided in placement."""
    if state is None:
        raise NotFound(f"order {command.order_id}")
    name = type(command).__name__
    match command:
        case RecordPayment(succeeded=True, payment_reference=reference):
            if state.status in (Status.PAID, Status.FULFILLED, Status.REFUND_PENDING):
                return []
            if state.status is Status.CANCELLED:
                # A charge that raced the cancellation (deadline or customer): give it back.
                return [] if state.refund_requested else [_refund(state, reference or "", LATE_PAYMENT)]
            _require(state, {Status.PENDING}, name)
            return [
                m.PaymentSucceeded(
                    order_id=state.id,
                    amount=format_money(state.total),
                    currency=state.currency,
                    payment_reference=reference or "",
                )
            ]
        case RecordPayment(succeeded=False, reason=reason):
            if state.status in (Status.PAYMENT_FAILED, Status.CANCELLED):
                return []
            _require(state, {Status.PENDING}, name)
            return [
                m.PaymentFailed(
                    order_id=state.id,
                    amount=format_money(state.total),
                    currency=state.currency,
                    reason=reason or "declined",
                )
            ]
        case RecordChargeUnanswered(reason=reason):
            if state.status is not Status.PENDING or state.charge_unanswered:
                return []
            return [m.ChargeUnanswered(order_id=state.id, reason=reason[:255] or "no answer")]
        case FulfilOrder():
            if state.status is Status.FULFILLED:
                return []
            _require(state, {Status.PAID}, name)
            return [m.OrderFulfilled(order_id=state.id)]
        case CancelOrder(reason=reason):
            if state.status is Status.CANCELLED:
                return []
            _require(state, {Status.PAYMENT_FAILED}, name)
            return [m.OrderCancelled(order_id=state.id, reason=reason)]
        case ExpirePayment(now=now):
            due = state.payment_deadline is not None and now >= state.payment_deadline
            if state.status is not Status.PENDING or not due:
                return []  # paid, declined or cancelled meanwhile: the deadline has nothing to do
            return [m.OrderCancelled(order_id=state.id, reason=PAYMENT_TIMEOUT)]
        case CustomerCancel():
            if state.status is Status.PENDING:
                return [m.OrderCancelled(order_id=state.id, reason=CUSTOMER_CANCELLED)]
            if state.status is Status.PAID:
                return [_refund(state, state.payment_reference or "", CUSTOMER_CANCELLED)]
            if state.status is Status.REFUND_PENDING:
                return []  # asked again while the refund is on its way
            raise NotCancellable(state.id, state.status.value)
        case RecordRefund(refund_reference=reference):
            if state.refunded:
                return []
            if not state.refund_requested:
                raise InvalidTransition(
                    f"order {state.id}", state.status.value, name + " without a refund requested"
                )
            refunded = m.PaymentRefunded(
                order_id=state.id,
                refund_id=refund_id_of(state.id),
                amount=format_money(state.total),
                currency=state.currency,
                refund_reference=reference,
            )
            if state.status is Status.REFUND_PENDING:
                return [refunded, m.OrderCancelled(order_id=state.id, reason=CUSTOMER_CANCELLED)]
            return [refunded]
        case RecordConfirmationSent(kind=kind, recipient=recipient, message_id=message_id):
            if not email_due(state, kind):
                return []
            return [
                m.ConfirmationSent(order_id=state.id, kind=kind, recipient=recipient, message_id=message_id)
            ]
    raise TypeError(f"not an order command: {command!r}")


def email_due(state: Order, kind: m.EmailKind) -> bool:
    """May this e-mail be sent and recorded now? False once it has been, and for the
    cancellation of a declined order (its payment_failed e-mail said so); InvalidTransition
    while the order is not in a state the e-mail belongs to."""
    if kind in state.emails_sent:
        return False
    if kind is m.EmailKind.order_cancelled and state.failure_reason is not None:
        return False
    _require(state, EMAIL_STATES[kind], RecordConfirmationSent.__name__)
    return True


def cancellation_email(state: Order) -> m.EmailKind:
    """What a cancelled order's customer is told: that the payment failed, for a declined order
    (the decline cancelled it), else that it was cancelled."""
    return m.EmailKind.payment_failed if state.failure_reason is not None else m.EmailKind.order_cancelled


def _refund(state: Order, payment_reference: str, reason: str) -> m.RefundRequested:
    return m.RefundRequested(
        order_id=state.id,
        refund_id=refund_id_of(state.id),
        amount=format_money(state.total),
        currency=state.currency,
        payment_reference=payment_reference or "unknown",
        reason=reason,
    )


def _require(state: Order, allowed: set[Status], command: str) -> None:
    if state.status not in allowed:
        raise InvalidTransition(f"order {state.id}", state.status.value, command)


# --- evolve / fold ------------------------------------------------------------------------------


def evolve(state: Order | None, event: Recorded) -> Order | None:
    """The order after one more event; the event's version becomes the order's."""
    # By the event's exact class, one dict lookup: singledispatch's would cost more than most
    # applies, and registering by annotation evaluated every apply's type hints at import.
    return _APPLY.get(type(event.data), _not_ours)(event.data, state, event)


def _not_ours(data: DomainEvent, state: Order | None, event: Recorded) -> Order | None:
    raise TypeError(f"{type(data).__name__} does not belong to an order stream")


def _placed(data: m.OrderPlaced, state: Order | None, event: Recorded) -> Order:
    return Order(
        id=data.order_id,
        user_id=data.user_id,
        email=data.email,
        status=Status.PENDING,
        lines=tuple(
            OrderLine(line.sku, line.quantity, parse_money(line.unit_price), parse_money(line.line_total))
            for line in data.lines
        ),
        total=parse_money(data.total),
        currency=data.currency,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        version=event.version,
        client_reference=data.client_reference if isinstance(data.client_reference, str) else None,
        reserved_from=tuple(
            Reservation(r.sku, r.shard, r.quantity)
            for r in (data.reserved_from if isinstance(data.reserved_from, list) else ())
        ),
        payment_deadline=parse_timestamp(data.payment_deadline)
        if isinstance(data.payment_deadline, str)
        else None,
    )


def _paid(data: m.PaymentSucceeded, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.PAID, payment_reference=data.payment_reference)


def _declined(data: m.PaymentFailed, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.PAYMENT_FAILED, failure_reason=data.reason)


def _fulfilled(data: m.OrderFulfilled, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.FULFILLED)


def _cancelled(data: m.OrderCancelled, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.CANCELLED, cancel_reason=data.reason)


def _refund_requested(data: m.RefundRequested, state: Order | None, event: Recorded) -> Order:
    current = _existing(state, event)
    status = Status.REFUND_PENDING if current.status is Status.PAID else current.status
    return _moved(current, event, status=status, refund_requested=True)


def _unanswered(data: m.ChargeUnanswered, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, charge_unanswered=True)


def _refunded(data: m.PaymentRefunded, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, refunded=True)


def _emailed(data: m.ConfirmationSent, state: Order | None, event: Recorded) -> Order:
    current = _existing(state, event)
    return _moved(current, event, emails_sent=current.emails_sent | {data.kind})


def _existing(state: Order | None, event: Recorded) -> Order:
    if state is None:
        raise ValueError(f"{event.type} at {event.stream} v{event.version} before OrderPlaced")
    return state


def _moved(state: Order | None, event: Recorded, **changes: object) -> Order:
    return changed(_existing(state, event), updated_at=event.occurred_at, version=event.version, **changes)


_APPLY: dict[type[DomainEvent], Callable[[Any, Order | None, Recorded], Order | None]] = {
    m.OrderPlaced: _placed,
    m.PaymentSucceeded: _paid,
    m.PaymentFailed: _declined,
    m.OrderFulfilled: _fulfilled,
    m.OrderCancelled: _cancelled,
    m.RefundRequested: _refund_requested,
    m.ChargeUnanswered: _unanswered,
    m.PaymentRefunded: _refunded,
    m.ConfirmationSent: _emailed,
}
