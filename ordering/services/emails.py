"""The e-mails customers receive, composed from the order (no I/O here)."""

from __future__ import annotations

from generated.models import EmailKind
from ordering.domain.money import format_money
from ordering.domain.order import PAYMENT_TIMEOUT, Order
from ordering.ports.mailer import Email


def compose(order: Order, kind: EmailKind, correlation_id: str) -> Email:
    if kind is EmailKind.order_confirmation:
        return Email(
            to=order.email,
            subject=f"Your order {order.id[:8]} is confirmed",
            text=_confirmation_text(order),
            correlation_id=correlation_id,
        )
    if kind is EmailKind.order_cancelled:
        return Email(
            to=order.email,
            subject=f"Your order {order.id[:8]} is cancelled",
            text=_cancellation_text(order),
            correlation_id=correlation_id,
        )
    return Email(
        to=order.email,
        subject=f"Payment for your order {order.id[:8]} failed",
        text=(
            f"We could not take payment of {format_money(order.total)} {order.currency} for order {order.id} "
            f"({order.failure_reason or 'declined'}). The order is cancelled and nothing was charged.\n"
        ),
        correlation_id=correlation_id,
    )


def _cancellation_text(order: Order) -> str:
    amount = f"{format_money(order.total)} {order.currency}"
    if order.cancel_reason == PAYMENT_TIMEOUT:
        why = "We did not receive payment for it in time, so it was cancelled."
    else:
        why = "It was cancelled as you asked."
    money = (
        f"Your payment of {amount} was refunded."
        if order.refunded
        else f"Nothing was charged for it ({amount}); a payment that was under way is refunded."
    )
    return f"Your order {order.id} is cancelled. {why}\n{money}\n"


def _confirmation_text(order: Order) -> str:
    width = max(len(line.sku) for line in order.lines)
    rows = [
        f"  {line.sku:<{width}}  {line.quantity:>4} x {format_money(line.unit_price):>10}"
        f"  = {format_money(line.line_total):>10} {order.currency}"
        for line in order.lines
    ]
    total = f"  {'Total':<{width}}  {'':>4}   {'':>10}  = {format_money(order.total):>10} {order.currency}"
    return f"Thank you for your order {order.id}.\n\n" + "\n".join(rows) + f"\n{total}\n"
