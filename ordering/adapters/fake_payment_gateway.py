"""A payment gateway that decides by rules, for local runs and tests. It is the default.

Charge rules (each settable by configuration, see ordering/config.py):
  - an amount above `decline_above` (FAKE_PAYMENT_DECLINE_ABOVE, unset: no limit) is declined
    ("amount_limit_exceeded");
  - a customer e-mail tagged `+<decline_tag>` (FAKE_PAYMENT_DECLINE_TAG, default "decline":
    ada+decline@example.com) is declined ("card_declined");
  - a customer e-mail tagged `+<timeout_tag>` (FAKE_PAYMENT_TIMEOUT_TAG, default "timeout") charges
    on the first attempt but the answer is lost (PaymentTimeout); the retry with the same
    idempotency key returns that charge;
  - a customer e-mail tagged `+<unavailable_tag>` (default "unavailable") finds the gateway down
    on every attempt (GatewayUnavailable): nothing is charged, ever (a payment that never comes).
Refund rules, by the refund tags of the charged customer's e-mail. The charge's reference carries
them (fake_<key>+refund-timeout), so a refund made in another process (the refund function) or
after a restart decides the same:
  - `+<refund_decline_tag>` (FAKE_PAYMENT_REFUND_DECLINE_TAG, default "refund-decline"): refused
    ("declined", as when the card is closed);
  - `+<refund_timeout_tag>` (FAKE_PAYMENT_REFUND_TIMEOUT_TAG, default "refund-timeout"): refunded
    on the first attempt but the answer is lost (PaymentTimeout); the retry returns that refund;
  - more than is left of a charge this gateway made is refused: "charge_already_refunded" when
    nothing is left, else "amount_too_large" (Stripe's codes). A charge it did not make (another
    process's) is refunded as asked.
Like a real gateway, one idempotency key is charged (or refunded) at most once. PAYMENT_GATEWAY=stripe
selects the Stripe adapter instead (ordering/adapters/stripe_payment_gateway.py).
"""

from __future__ import annotations

import threading
from decimal import Decimal

from ordering.ports.payment_gateway import (
    Charge,
    ChargeResult,
    GatewayUnavailable,
    PaymentGateway,
    PaymentTimeout,
    Refund,
    RefundResult,
)


class FakePaymentGateway(PaymentGateway):
    def __init__(
        self,
        *,
        decline_above: Decimal | None = None,
        decline_tag: str = "decline",
        timeout_tag: str = "timeout",
        refund_decline_tag: str = "refund-decline",
        refund_timeout_tag: str = "refund-timeout",
        unavailable_tag: str = "unavailable",
    ) -> None:
        self.decline_above = decline_above
        self.decline_tag, self.timeout_tag, self.unavailable_tag = decline_tag, timeout_tag, unavailable_tag
        self.refund_decline_tag, self.refund_timeout_tag = refund_decline_tag, refund_timeout_tag
        self.charges: dict[str, ChargeResult] = {}  # idempotency key -> the one decision made
        self.attempts: dict[str, int] = {}
        self.refunds: dict[str, RefundResult] = {}  # refund idempotency key -> the one decision made
        self.refund_attempts: dict[str, int] = {}
        self.left: dict[str, Decimal] = {}  # charge reference -> the amount not yet refunded
        self._lock = threading.Lock()

    def charge(self, charge: Charge) -> ChargeResult:
        if self._tagged(charge.customer_email.split("@", 1)[0], self.unavailable_tag):
            raise GatewayUnavailable(f"the gateway is down for {charge.idempotency_key} (nothing charged)")
        with self._lock:
            self.attempts[charge.idempotency_key] = self.attempts.get(charge.idempotency_key, 0) + 1
            first = charge.idempotency_key not in self.charges
            if first:
                result = self.charges[charge.idempotency_key] = self._decide(charge)
                if result.reference is not None:
                    self.left[result.reference] = charge.amount
            result = self.charges[charge.idempotency_key]
        if first and self._tagged(charge.customer_email.split("@", 1)[0], self.timeout_tag):
            raise PaymentTimeout(f"no answer for {charge.idempotency_key} (charged, answer lost)")
        return result

    def refund(self, refund: Refund) -> RefundResult:
        with self._lock:
            key = refund.idempotency_key
            self.refund_attempts[key] = self.refund_attempts.get(key, 0) + 1
            first = key not in self.refunds
            if first:
                result = self.refunds[key] = self._decide_refund(refund)
                if result.refunded and refund.payment_reference in self.left:
                    self.left[refund.payment_reference] -= refund.amount
            result = self.refunds[key]
        if first and result.refunded and self._tagged(refund.payment_reference, self.refund_timeout_tag):
            raise PaymentTimeout(f"no answer for refund {key} (refunded, answer lost)")
        return result

    @property
    def approved_charges(self) -> int:
        return sum(result.approved for result in self.charges.values())

    @property
    def refunds_made(self) -> int:
        return sum(result.refunded for result in self.refunds.values())

    def _decide(self, charge: Charge) -> ChargeResult:
        local = charge.customer_email.split("@", 1)[0]
        if self.decline_above is not None and charge.amount > self.decline_above:
            return ChargeResult(approved=False, reason="amount_limit_exceeded")
        if self._tagged(local, self.decline_tag):
            return ChargeResult(approved=False, reason="card_declined")
        refund_tags = "".join(
            f"+{tag}"
            for tag in (self.refund_decline_tag, self.refund_timeout_tag)
            if self._tagged(local, tag)
        )
        return ChargeResult(approved=True, reference=f"fake_{charge.idempotency_key}{refund_tags}")

    def _decide_refund(self, refund: Refund) -> RefundResult:
        if self._tagged(refund.payment_reference, self.refund_decline_tag):
            return RefundResult(refunded=False, reason="declined")
        left = self.left.get(refund.payment_reference)
        if left is not None and refund.amount > left:
            return RefundResult(
                refunded=False, reason="charge_already_refunded" if not left else "amount_too_large"
            )
        return RefundResult(refunded=True, reference=f"fake_re_{refund.idempotency_key}")

    @staticmethod
    def _tagged(text: str, tag: str) -> bool:
        return bool(tag) and f"+{tag}" in text
