"""One contract for every PaymentGateway adapter: the fake, and Stripe against a local Stripe stub.

Both decide by a tag in the customer's e-mail (+decline, +timeout), the fake by its rules and
the stub as documented in tests/support/stripe_stub.py, so the same charges mean the same here.
"""

from __future__ import annotations

import abc
import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from moto import mock_aws

from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.stripe_payment_gateway import KEY_TRUSTED_FOR, StripePaymentGateway, minor_units
from ordering.config import MissingSetting, Settings
from ordering.ports.payment_gateway import (
    Charge,
    GatewayUnavailable,
    PaymentError,
    PaymentGateway,
    PaymentTimeout,
    Refund,
)
from tests.support.stripe_stub import StripeStub

GATEWAYS = ["fake", "stripe"]
CLIENT_TIMEOUT = 0.5  # seconds the Stripe client waits for an answer; the stub holds "timeouts" far longer


class Backend(abc.ABC):
    gateway: PaymentGateway

    @abc.abstractmethod
    def charges_made(self) -> int:
        """How many charges the payment provider holds."""

    @abc.abstractmethod
    def refunds_made(self) -> int:
        """How many refunds the payment provider holds."""


class FakeBackend(Backend):
    def __init__(self) -> None:
        self.gateway = self.fake = FakePaymentGateway()

    def charges_made(self) -> int:
        return self.fake.approved_charges

    def refunds_made(self) -> int:
        return self.fake.refunds_made


class StripeBackend(Backend):
    def __init__(self, stub: StripeStub) -> None:
        self.stub = stub
        self.gateway = StripePaymentGateway(
            api_key=stub.api_key, api_base=stub.url, timeout_seconds=CLIENT_TIMEOUT
        )

    def charges_made(self) -> int:
        return len(self.stub.charges)

    def refunds_made(self) -> int:
        return len(self.stub.refunds)


@contextlib.contextmanager
def backend_of(kind: str) -> Iterator[Backend]:
    if kind == "fake":
        yield FakeBackend()
        return
    with StripeStub() as stub:
        yield StripeBackend(stub)


@pytest.fixture(params=GATEWAYS)
def backend(request) -> Iterator[Backend]:
    with backend_of(request.param) as backend:
        yield backend


def charge(
    email="ada@example.com", amount="19.20", currency="EUR", key=None, placed_ago=timedelta(0)
) -> Charge:
    order_id = key or str(uuid.uuid4())
    return Charge(
        idempotency_key=order_id,
        order_id=order_id,
        amount=Decimal(amount),
        currency=currency,
        customer_email=email,
        placed_at=datetime.now(UTC) - placed_ago,
    )


def test_a_charge_is_approved_with_a_reference(backend):
    result = backend.gateway.charge(charge())
    assert result.approved
    assert result.reference
    assert result.reason is None
    assert backend.charges_made() == 1


def test_the_same_key_charged_again_returns_the_first_charge(backend):
    first = charge()
    results = [backend.gateway.charge(first) for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert backend.charges_made() == 1


def test_different_keys_are_different_charges(backend):
    a, b = backend.gateway.charge(charge()), backend.gateway.charge(charge())
    assert a.reference != b.reference
    assert backend.charges_made() == 2


def test_a_declined_card_is_a_decision_not_an_error_and_charges_nothing(backend):
    declined = charge(email="bob+decline@example.net")
    first = backend.gateway.charge(declined)
    again = backend.gateway.charge(declined)
    assert not first.approved
    assert first.reason
    assert first.reference is None
    assert again == first
    assert backend.charges_made() == 0


def test_a_lost_answer_is_a_timeout_and_the_retry_returns_the_one_charge(backend):
    slow = charge(email="ada+timeout@example.com")
    with pytest.raises(PaymentTimeout):
        backend.gateway.charge(slow)
    assert backend.charges_made() == 1  # it did charge; only the answer was lost

    result = backend.gateway.charge(slow)

    assert result.approved
    assert backend.charges_made() == 1


# --- refunds ------------------------------------------------------------------------------------


def refund_of(charged: Charge, reference: str, amount=None, key=None) -> Refund:
    return Refund(
        idempotency_key=key or f"refund-{charged.order_id}",
        order_id=charged.order_id,
        payment_reference=reference,
        amount=Decimal(amount) if amount is not None else charged.amount,
        currency=charged.currency,
    )


def charged(backend: Backend, **options) -> tuple[Charge, str]:
    made = charge(**options)
    result = backend.gateway.charge(made)
    assert result.approved
    assert result.reference
    return made, result.reference


def test_a_charge_is_refunded_with_a_reference(backend):
    made, reference = charged(backend)
    result = backend.gateway.refund(refund_of(made, reference))
    assert result.refunded
    assert result.reference
    assert result.reference != reference
    assert result.reason is None
    assert backend.refunds_made() == 1


def test_the_same_refund_asked_again_returns_the_first_refund(backend):
    made, reference = charged(backend)
    asked = refund_of(made, reference)
    results = [backend.gateway.refund(asked) for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert results[0].refunded
    assert backend.refunds_made() == 1


def test_a_lost_refund_answer_is_a_timeout_and_the_retry_returns_the_one_refund(backend):
    made, reference = charged(backend, email="ada+refund-timeout@example.com")
    asked = refund_of(made, reference)
    with pytest.raises(PaymentTimeout):
        backend.gateway.refund(asked)
    assert backend.refunds_made() == 1  # it did refund; only the answer was lost

    result = backend.gateway.refund(asked)

    assert result.refunded
    assert backend.refunds_made() == 1


def test_a_refused_refund_is_a_decision_not_an_error_and_refunds_nothing(backend):
    made, reference = charged(backend, email="bob+refund-decline@example.net")
    asked = refund_of(made, reference)
    first = backend.gateway.refund(asked)
    assert not first.refunded
    assert first.reason
    assert backend.gateway.refund(asked) == first
    assert backend.refunds_made() == 0


def test_a_charge_refunded_in_full_is_not_refunded_again_under_another_key(backend):
    made, reference = charged(backend)
    assert backend.gateway.refund(refund_of(made, reference)).refunded

    second = backend.gateway.refund(refund_of(made, reference, key="another-refund"))

    assert not second.refunded
    assert second.reason == "charge_already_refunded"
    assert backend.refunds_made() == 1


def test_a_refund_larger_than_the_charge_is_refused(backend):
    made, reference = charged(backend, amount="10.00")
    result = backend.gateway.refund(refund_of(made, reference, amount="10.01"))
    assert not result.refunded
    assert result.reason == "amount_too_large"
    assert backend.refunds_made() == 0


def test_part_refunds_add_up_to_the_charge(backend):
    made, reference = charged(backend, amount="10.00")
    first = backend.gateway.refund(refund_of(made, reference, amount="6.00", key="part-1"))
    second = backend.gateway.refund(refund_of(made, reference, amount="4.00", key="part-2"))
    third = backend.gateway.refund(refund_of(made, reference, amount="0.01", key="part-3"))
    assert first.refunded
    assert second.refunded
    assert first.reference != second.reference
    assert (third.refunded, third.reason) == (False, "charge_already_refunded")
    assert backend.refunds_made() == 2


# --- Stripe only --------------------------------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    with StripeStub() as stub:
        yield stub


def stripe_gateway(stub: StripeStub, **options) -> StripePaymentGateway:
    return StripePaymentGateway(
        api_key=options.pop("api_key", stub.api_key),
        api_base=stub.url,
        timeout_seconds=CLIENT_TIMEOUT,
        **options,
    )


def test_stripe_gets_one_confirmed_payment_intent_in_minor_units_keyed_by_the_order(stub):
    order = charge(amount="19.20", currency="EUR")
    result = stripe_gateway(stub, payment_method="pm_card_mastercard").charge(order)

    [request] = stub.received
    assert request.idempotency_key == order.order_id
    assert request.params["amount"] == "1920"
    assert request.params["currency"] == "eur"
    assert request.params["confirm"] == "true"
    assert request.params["payment_method"] == "pm_card_mastercard"
    assert request.params["metadata[order_id]"] == order.order_id
    assert result.reference == stub.charges[0]["id"]


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("19.20", "EUR", 1920),
        ("0.10", "USD", 10),
        ("1500.00", "JPY", 1500),
        ("9999999999.99", "EUR", 999999999999),
    ],
)
def test_amounts_go_in_the_currencys_minor_units(amount, currency, units):
    assert minor_units(Decimal(amount), currency) == units


def test_a_fraction_of_a_zero_decimal_currency_is_refused():
    with pytest.raises(PaymentError, match="JPY"):
        minor_units(Decimal("10.50"), "JPY")


def test_a_stripe_outage_is_gateway_unavailable_and_is_not_remembered(stub):
    gateway = stripe_gateway(stub)
    with pytest.raises(GatewayUnavailable, match="503"):
        gateway.charge(charge(email="ada+unavailable@example.com"))
    assert stub.charges == []


def test_stripe_out_of_reach_is_gateway_unavailable():
    gateway = StripePaymentGateway(
        api_key="sk_test_x", api_base="http://127.0.0.1:9", timeout_seconds=CLIENT_TIMEOUT
    )
    with pytest.raises(GatewayUnavailable, match="could not be reached"):
        gateway.charge(charge())


def test_a_wrong_api_key_is_a_payment_error_but_not_unavailability(stub):
    with pytest.raises(PaymentError) as raised:
        stripe_gateway(stub, api_key="sk_test_wrong").charge(charge())
    assert not isinstance(raised.value, GatewayUnavailable | PaymentTimeout)
    assert "AuthenticationError" in str(raised.value)


def test_the_api_key_can_come_from_secrets_manager(stub):
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
            Name="orders/stripe", SecretString=stub.api_key
        )["ARN"]
        settings = Settings(stripe_secret_arn=arn, stripe_api_base=stub.url, aws_region="eu-west-1")
        assert StripePaymentGateway.from_settings(settings).charge(charge()).approved


def test_without_a_key_the_gateway_names_the_missing_setting():
    with pytest.raises(MissingSetting, match="STRIPE_API_KEY"):
        StripePaymentGateway.from_settings(Settings(payment_gateway="stripe"))


# --- Stripe forgets idempotency keys after about a day; the queues keep messages 14 days --------

LONG_AGO = timedelta(days=3)


def test_an_order_charged_before_stripe_forgot_its_key_is_not_charged_again(stub):
    """A message redriven from the DLQ days later, its first charge never recorded."""
    gateway, old = stripe_gateway(stub), charge(placed_ago=LONG_AGO)
    first = gateway.charge(old)
    stub.forget_idempotency_keys()

    again = gateway.charge(old)

    assert again == first
    assert again.approved
    assert len(stub.charges) == 1
    assert [r.path for r in stub.received if r.method == "POST"] == ["/v1/payment_intents"]


def test_a_decline_stripe_forgot_the_key_of_stays_the_decision(stub):
    gateway, old = stripe_gateway(stub), charge(email="bob+decline@example.net", placed_ago=LONG_AGO)
    first = gateway.charge(old)
    stub.forget_idempotency_keys()
    assert gateway.charge(old) == first
    assert not first.approved
    assert len([r for r in stub.received if r.method == "POST"]) == 1


def test_an_old_order_never_charged_is_charged_once(stub):
    gateway, old = stripe_gateway(stub), charge(placed_ago=LONG_AGO)
    result = gateway.charge(old)
    assert result.approved
    assert [(r.method, r.path.split("?")[0]) for r in stub.received] == [
        ("GET", "/v1/payment_intents/search"),
        ("POST", "/v1/payment_intents"),
    ]
    query = dict(parse_qsl(urlsplit(stub.received[0].path).query))["query"]
    assert query == f"metadata['order_id']:'{old.order_id}'"


def test_a_recent_order_is_trusted_to_its_key_and_not_searched(stub):
    """Search costs a call (and is rate-limited): only orders older than a key's life need it."""
    stripe_gateway(stub).charge(charge(placed_ago=KEY_TRUSTED_FOR - timedelta(minutes=5)))
    assert [r.method for r in stub.received] == ["POST"]


# --- Stripe refunds ---------------------------------------------------------------------------


def test_stripe_gets_one_refund_of_the_payment_intent_in_minor_units_keyed_by_the_refund_id(stub):
    gateway = stripe_gateway(stub)
    made = charge(amount="1500", currency="JPY")
    reference = gateway.charge(made).reference
    assert reference is not None

    result = gateway.refund(refund_of(made, reference, key="refund-42"))

    request = stub.received[-1]
    assert (request.method, request.path) == ("POST", "/v1/refunds")
    assert request.idempotency_key == "refund-42"
    assert request.params["payment_intent"] == reference
    assert request.params["amount"] == "1500"
    assert request.params["metadata[order_id]"] == made.order_id
    assert request.params["metadata[refund_id]"] == "refund-42"
    assert result.reference == stub.refunds[0]["id"]


def test_a_stripe_outage_during_a_refund_is_gateway_unavailable_and_refunds_nothing(stub):
    gateway = stripe_gateway(stub)
    made = charge()
    reference = gateway.charge(made).reference
    assert reference is not None
    stub.unavailable = True
    with pytest.raises(GatewayUnavailable, match="503"):
        gateway.refund(refund_of(made, reference))
    stub.unavailable = False
    assert stub.refunds == []
    assert gateway.refund(refund_of(made, reference)).refunded


def test_a_refund_of_an_unknown_charge_is_a_payment_error_not_a_refusal(stub):
    made = charge()
    with pytest.raises(PaymentError) as raised:
        stripe_gateway(stub).refund(refund_of(made, "pi_unknown"))
    assert not isinstance(raised.value, GatewayUnavailable | PaymentTimeout)
    assert "resource_missing" in str(raised.value)


def test_stripe_out_of_reach_during_a_refund_is_gateway_unavailable():
    gateway = StripePaymentGateway(
        api_key="sk_test_x", api_base="http://127.0.0.1:9", timeout_seconds=CLIENT_TIMEOUT
    )
    made = charge()
    with pytest.raises(GatewayUnavailable, match="could not be reached"):
        gateway.refund(refund_of(made, "pi_x"))


def test_a_refund_made_before_stripe_forgot_its_key_is_the_answer_not_a_refusal(stub):
    """A refund message redriven days later, its first refund never recorded."""
    gateway = stripe_gateway(stub)
    made = charge()
    reference = gateway.charge(made).reference
    assert reference is not None
    first = gateway.refund(refund_of(made, reference))
    stub.forget_idempotency_keys()

    again = gateway.refund(refund_of(made, reference))

    assert again == first
    assert again.refunded
    assert len(stub.refunds) == 1


def test_a_fake_refund_decides_from_the_charge_reference_in_a_process_that_did_not_charge():
    """The refund function is another process than the payment function: the tags travel in the reference."""
    made = charge(email="ada+refund-timeout@example.com")
    reference = FakePaymentGateway().charge(made).reference
    assert reference is not None
    elsewhere = FakePaymentGateway()
    with pytest.raises(PaymentTimeout):
        elsewhere.refund(refund_of(made, reference))
    assert elsewhere.refund(refund_of(made, reference)).refunded
    assert elsewhere.refunds_made == 1
