"""A payment gateway that decides by rules, for local runs and tests. It is the default.

Rules (each settable by configuration, see ordering/config.py):
  - an amount above `decline_above` (FAKE_PAYMENT_DECLINE_ABOVE, unset: no limit) is declined
    ("amount_limit_exceeded");
  - a customer e-mail tagged `+<decline_tag>` (FAKE_PAYMENT_DECLINE_TAG, default "decline":
    ada+decline@example.com) is declined ("card_declined");
  - a customer e-mail tagged `+<timeout_tag>` (FAKE_PAYMENT_TIMEOUT_TAG, default "timeout") charges
    on the first attempt but the answer is lost (PaymentTimeout); the retry with the same
    idempotency key returns that charge.
Like a real gateway, one idempotency key is charged at most once. PAYMENT_GATEWAY=stripe
selects the Stripe adapter instead (ordering/adapters/stripe_payment_gateway.py).
"""

from __future__ import annotations

import threading
from decimal import Decimal

from ordering.ports.payment_gateway import Charge, ChargeResult, PaymentGateway, PaymentTimeout


class FakePaymentGateway(PaymentGateway):
    def __init__(
        self,
        *,
        decline_above: Decimal | None = None,
        decline_tag: str = "decline",
        timeout_tag: str = "timeout",
    ) -> None:
        self.decline_above = decline_above
        self.decline_tag, self.timeout_tag = decline_tag, timeout_tag
        self.charges: dict[str, ChargeResult] = {}  # idempotency key -> the one decision made
        self.attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def charge(self, charge: Charge) -> ChargeResult:
        with self._lock:
            self.attempts[charge.idempotency_key] = self.attempts.get(charge.idempotency_key, 0) + 1
            first = charge.idempotency_key not in self.charges
            if first:
                self.charges[charge.idempotency_key] = self._decide(charge)
            result = self.charges[charge.idempotency_key]
        if first and self._tagged(charge, self.timeout_tag):
            raise PaymentTimeout(f"no answer for {charge.idempotency_key} (charged, answer lost)")
        return result

    @property
    def approved_charges(self) -> int:
        return sum(result.approved for result in self.charges.values())

    def _decide(self, charge: Charge) -> ChargeResult:
        if self.decline_above is not None and charge.amount > self.decline_above:
            return ChargeResult(approved=False, reason="amount_limit_exceeded")
        if self._tagged(charge, self.decline_tag):
            return ChargeResult(approved=False, reason="card_declined")
        return ChargeResult(approved=True, reference=f"fake_{charge.idempotency_key}")

    @staticmethod
    def _tagged(charge: Charge, tag: str) -> bool:
        local = charge.customer_email.split("@", 1)[0]
        return bool(tag) and f"+{tag}" in local
