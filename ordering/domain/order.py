"""The Order aggregate: PENDING -> PAID -> FULFILLED, or PENDING -> PAYMENT_FAILED -> CANCELLED.

A command that asks for the state the order is already in (a redelivered message) decides
no events; any other transition the lifecycle does not allow is an InvalidTransition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import singledispatch

from generated import models as m
from ordering.domain.changed import changed
from ordering.domain.errors import InvalidTransition, NotFound
from ordering.domain.events import DomainEvent
from ordering.domain.money import format_money, parse_money
from ordering.domain.recorded import Recorded

Status = m.OrderStatus


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


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


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordPayment:
    """The gateway answered: charged (reference) or declined (reason)."""

    order_id: str
    succeeded: bool
    payment_reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FulfilOrder:
    order_id: str


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str


@dataclass(frozen=True)
class RecordConfirmationSent:
    order_id: str
    kind: m.EmailKind
    recipient: str
    message_id: str


OrderCommand = RecordPayment | FulfilOrder | CancelOrder | RecordConfirmationSent

# Which e-mail belongs to which outcome, and in which states it may be recorded.
EMAIL_STATES = {
    m.EmailKind.order_confirmation: {Status.PAID, Status.FULFILLED},
    m.EmailKind.payment_failed: {Status.PAYMENT_FAILED, Status.CANCELLED},
}


def decide(state: Order | None, command: OrderCommand) -> list[DomainEvent]:
    """The events a command causes on an existing order. Placing an order is decided in placement."""
    if state is None:
        raise NotFound(f"order {command.order_id}")
    name = type(command).__name__
    match command:
        case RecordPayment(succeeded=True, payment_reference=reference):
            if state.status in (Status.PAID, Status.FULFILLED):
                return []
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
        case RecordConfirmationSent(kind=kind, recipient=recipient, message_id=message_id):
            if not email_due(state, kind):
                return []
            return [
                m.ConfirmationSent(order_id=state.id, kind=kind, recipient=recipient, message_id=message_id)
            ]
    raise TypeError(f"not an order command: {command!r}")


def email_due(state: Order, kind: m.EmailKind) -> bool:
    """May this e-mail be sent and recorded now? False once it has been; InvalidTransition
    while the order is not in a state the e-mail belongs to."""
    if kind in state.emails_sent:
        return False
    _require(state, EMAIL_STATES[kind], RecordConfirmationSent.__name__)
    return True


def _require(state: Order, allowed: set[Status], command: str) -> None:
    if state.status not in allowed:
        raise InvalidTransition(f"order {state.id}", state.status.value, command)


# --- evolve / fold ------------------------------------------------------------------------------


def evolve(state: Order | None, event: Recorded) -> Order | None:
    """The order after one more event; the event's version becomes the order's."""
    # By the event's exact class: singledispatch's own lookup costs more than most applies.
    return _apply.registry.get(type(event.data), _apply)(event.data, state, event)


@singledispatch
def _apply(data: DomainEvent, state: Order | None, event: Recorded) -> Order | None:
    raise TypeError(f"{type(data).__name__} does not belong to an order stream")


@_apply.register
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
    )


@_apply.register
def _paid(data: m.PaymentSucceeded, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.PAID, payment_reference=data.payment_reference)


@_apply.register
def _declined(data: m.PaymentFailed, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.PAYMENT_FAILED, failure_reason=data.reason)


@_apply.register
def _fulfilled(data: m.OrderFulfilled, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.FULFILLED)


@_apply.register
def _cancelled(data: m.OrderCancelled, state: Order | None, event: Recorded) -> Order:
    return _moved(state, event, status=Status.CANCELLED)


@_apply.register
def _emailed(data: m.ConfirmationSent, state: Order | None, event: Recorded) -> Order:
    current = _existing(state, event)
    return _moved(current, event, emails_sent=current.emails_sent | {data.kind})


def _existing(state: Order | None, event: Recorded) -> Order:
    if state is None:
        raise ValueError(f"{event.type} at {event.stream} v{event.version} before OrderPlaced")
    return state


def _moved(state: Order | None, event: Recorded, **changes: object) -> Order:
    return changed(_existing(state, event), updated_at=event.occurred_at, version=event.version, **changes)
