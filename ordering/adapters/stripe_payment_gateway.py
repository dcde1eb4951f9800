"""The PaymentGateway port on Stripe: one PaymentIntent per order, created and confirmed in one call.

The idempotency key is the order id, so a redelivered message that charges again gets Stripe's
first answer back instead of a second charge. Stripe keeps a key for about 24 hours only, while
the payment queue and its dead-letter queue keep a message for 14 days: a message redriven
after a day could charge again if the first charge was never recorded. So an order placed more
than KEY_TRUSTED_FOR ago (its first charge is at most that old) is first looked up by its
`metadata.order_id` (Stripe's search), and a PaymentIntent found is the answer, not a new
charge. Search lags writes by up to a minute (an hour in an outage), far less than the 23 hours
before it is asked; it is not offered to merchants in India. Amounts go in the currency's minor
units.

Stripe's answers become the port's:
  - charged (status succeeded)                 -> ChargeResult(approved=True, reference=<PaymentIntent id>)
  - card declined (402) or the payment method
    refused after confirmation                 -> ChargeResult(approved=False, reason=<decline code>)
  - no answer in time (read timeout)           -> PaymentTimeout: it may have charged; retry with the same key
  - 5xx, 429, network, key still in flight     -> GatewayUnavailable
  - anything else (bad key, bad request)       -> PaymentError: a configuration fault; redelivered, then DLQ
There are no retries inside a call: SQS redelivery is the retry, so one attempt stays well
inside the payment function's time budget.

A refund is one Refund of the charge's PaymentIntent (the Refunds API), for the amount in minor
units, with Idempotency-Key = the order's refund id (also kept as `metadata.refund_id`). Its
answers, with the same error mapping as charges:
  - Refund status succeeded or pending          -> RefundResult(refunded=True, reference=<Refund id>)
  - status failed / canceled / requires_action  -> RefundResult(refunded=False, reason=<failure reason>)
  - 400 charge_already_refunded, amount_too_large,
    charge_disputed                             -> RefundResult(refunded=False, reason=<the code>),
    unless the charge already holds a Refund with this refund id (made before Stripe forgot
    the key, its answer never recorded): that Refund is the answer, not a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
import stripe

from ordering.config import MissingSetting, Settings
from ordering.domain.money import to_cents
from ordering.ports.payment_gateway import (
    Charge,
    ChargeResult,
    GatewayUnavailable,
    PaymentError,
    PaymentGateway,
    PaymentTimeout,
    Refund,
    RefundResult,
)

# Currencies Stripe counts in whole units (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


# Stripe keeps idempotency keys at least 24 hours; an hour's margin for clocks and the retry itself.
KEY_TRUSTED_FOR = timedelta(hours=23)

# Stripe's 400 codes that are a refund's final answer, not a fault: asking again changes nothing.
REFUND_REFUSALS = frozenset({"charge_already_refunded", "amount_too_large", "charge_disputed"})


def minor_units(amount: Decimal, currency: str) -> int:
    """Decimal("12.30") EUR -> 1230; Decimal("1500.00") JPY -> 1500."""
    if currency.upper() not in ZERO_DECIMAL:
        return to_cents(amount)
    if amount != amount.to_integral_value():
        raise PaymentError(f"{amount} {currency}: {currency} has no minor unit")
    return int(amount)


class StripePaymentGateway(PaymentGateway):
    def __init__(
        self,
        *,
        api_key: str,
        api_base: str | None = None,
        payment_method: str = "pm_card_visa",
        timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.payment_method = payment_method
        self._clock = clock
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> StripePaymentGateway:
        return cls(
            api_key=_api_key(settings),
            api_base=settings.stripe_api_base,
            payment_method=settings.stripe_payment_method,
            timeout_seconds=settings.stripe_timeout_seconds,
        )

    def charge(self, charge: Charge) -> ChargeResult:
        params: dict[str, Any] = {
            "amount": minor_units(charge.amount, charge.currency),
            "currency": charge.currency.lower(),
            "payment_method": self.payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            "description": f"Order {charge.order_id}",
            "metadata": {"order_id": charge.order_id, "customer_email": charge.customer_email},
        }
        with _translated(f"the charge {charge.idempotency_key}"):
            try:
                if self._clock() - charge.placed_at > KEY_TRUSTED_FOR:
                    earlier = self._intent_of(charge.order_id)
                    if earlier is not None:
                        return _result_of(earlier)
                intent = self._client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": charge.idempotency_key},
                )
                if intent.status == "processing":  # e.g. a replayed answer: ask for the state now
                    intent = self._client.v1.payment_intents.retrieve(intent.id)
            except stripe.CardError as error:
                return ChargeResult(approved=False, reason=_decline_reason(error.error, error.code))
        return _result_of(intent)

    def refund(self, refund: Refund) -> RefundResult:
        params: dict[str, Any] = {
            "payment_intent": refund.payment_reference,
            "amount": minor_units(refund.amount, refund.currency),
            "reason": "requested_by_customer",
            "metadata": {"order_id": refund.order_id, "refund_id": refund.idempotency_key},
        }
        with _translated(f"the refund {refund.idempotency_key}"):
            try:
                made = self._client.v1.refunds.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": refund.idempotency_key},
                )
            except stripe.InvalidRequestError as error:
                if error.code not in REFUND_REFUSALS:
                    raise
                earlier = self._refund_of(refund)
                if earlier is not None:
                    return _refund_result_of(earlier)
                return RefundResult(refunded=False, reason=error.code)
        return _refund_result_of(made)

    def _refund_of(self, refund: Refund) -> Any | None:
        """The Refund made earlier under this refund id, if Stripe has forgotten the key since."""
        found = self._client.v1.refunds.list(
            params={"payment_intent": refund.payment_reference, "limit": 100}
        )
        mine = (made for made in found.data if _metadata(made).get("refund_id") == refund.idempotency_key)
        return next(mine, None)

    def _intent_of(self, order_id: str) -> Any | None:
        """The PaymentIntent made for this order, if any: a succeeded one before any other."""
        found: list[Any] = self._client.v1.payment_intents.search(
            params={"query": f"metadata['order_id']:'{order_id}'", "limit": 10}
        ).data
        charged = [intent for intent in found if intent.status in ("succeeded", "requires_capture")]
        return next(iter(charged or found), None)


def _result_of(intent: Any) -> ChargeResult:
    if intent.status in ("succeeded", "requires_capture"):
        return ChargeResult(approved=True, reference=intent.id)
    if intent.status == "processing":
        raise PaymentError(f"{intent.id} is still processing; the redelivery asks again")
    if intent.status == "requires_action":  # 3-D Secure: impossible without the customer present
        return ChargeResult(approved=False, reason="authentication_required")
    if intent.status == "canceled":
        return ChargeResult(approved=False, reason="canceled")
    return ChargeResult(
        approved=False, reason=_decline_reason(getattr(intent, "last_payment_error", None), None)
    )


def _metadata(made: Any) -> dict[str, str]:
    return dict(made.to_dict().get("metadata") or {})


def _refund_result_of(made: Any) -> RefundResult:
    if made.status in ("succeeded", "pending"):  # pending: accepted, the money is on its way
        return RefundResult(refunded=True, reference=made.id)
    return RefundResult(refunded=False, reason=str(getattr(made, "failure_reason", None) or made.status))


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Stripe's errors as the port's, for charges and refunds alike."""
    try:
        yield
    except stripe.APIConnectionError as error:
        if isinstance(error.__cause__, requests.exceptions.ReadTimeout):
            raise PaymentTimeout(f"Stripe did not answer in time for {what}") from error
        raise GatewayUnavailable(f"Stripe could not be reached: {error.user_message or error}") from error
    except (stripe.APIError, stripe.RateLimitError, stripe.IdempotencyError) as error:
        raise GatewayUnavailable(f"Stripe cannot take {what} now: {_describe(error)}") from error
    except stripe.StripeError as error:
        raise PaymentError(f"Stripe refused the request: {_describe(error)}") from error


def _decline_reason(error: Any, code: str | None) -> str:
    """Stripe's most specific reason: the issuer's decline code, else the error code."""
    specific = getattr(error, "decline_code", None) or getattr(error, "code", None)
    return str(specific or code or "card_declined")


def _describe(error: stripe.StripeError) -> str:
    parts = (type(error).__name__, error.http_status, error.code, error.user_message)
    return " ".join(str(part) for part in parts if part)


def _api_key(settings: Settings) -> str:
    """STRIPE_API_KEY, or the secret STRIPE_SECRET_ARN names (read once per container)."""
    if settings.stripe_api_key:
        return settings.stripe_api_key
    if settings.stripe_secret_arn:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        from ordering.adapters import aws_clients

        client = aws_clients.client(
            "secretsmanager", region=settings.aws_region, endpoint_url=settings.aws_endpoint_url
        )
        return str(SecretsProvider(boto3_client=client).get(settings.stripe_secret_arn))
    raise MissingSetting("STRIPE_API_KEY")
