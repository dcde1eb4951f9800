"""Charging a customer and refunding a charge. The idempotency key (the order id for a charge,
the order's refund id for a refund) makes a repeated request return the first answer instead of
charging or refunding twice, which is what makes redelivered messages safe."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Charge:
    idempotency_key: str
    order_id: str
    amount: Decimal
    currency: str
    customer_email: str
    # When the order was placed: a charge made since then is at most this old, so a gateway
    # that forgets idempotency keys after a while knows when a key may be gone.
    placed_at: datetime


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str | None = None  # the gateway's id of the charge, when approved
    reason: str | None = None  # why it was declined


@dataclass(frozen=True)
class Refund:
    idempotency_key: str  # the order's refund id: the same refund asked twice refunds once
    order_id: str
    payment_reference: str  # the gateway's id of the charge being refunded
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RefundResult:
    refunded: bool
    reference: str | None = None  # the gateway's id of the refund
    reason: str | None = None  # why it was refused


class PaymentError(Exception):
    """The gateway did not answer with a decision; the request may be retried with the same key."""


class PaymentTimeout(PaymentError):
    """No answer in time. It may or may not have happened; retrying with the same key is safe."""


class GatewayUnavailable(PaymentError):
    """The gateway refused to work (network, 5xx, rate limit)."""


class PaymentGateway(abc.ABC):
    @abc.abstractmethod
    def charge(self, charge: Charge) -> ChargeResult:
        """Approve or decline; raise PaymentError when there is no decision."""

    @abc.abstractmethod
    def refund(self, refund: Refund) -> RefundResult:
        """Refund or refuse; raise PaymentError when there is no decision (retry with the same key)."""
