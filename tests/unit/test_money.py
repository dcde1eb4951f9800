"""Money never passes through a float: JSON -> pydantic -> JSON keeps every digit."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from generated.models import PaymentSucceeded

ORDER_ID = "6f1c2a9e-0b7d-4e7a-9a43-3f7b8e2c5d10"
amounts = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2, allow_nan=False)


def payment_json(amount: str) -> str:
    return f'{{"order_id":"{ORDER_ID}","amount":"{amount}","currency":"EUR","payment_reference":"pi_1"}}'


@given(amounts)
def test_amount_survives_json_pydantic_json_exactly(amount):
    text = f"{amount:.2f}"
    event = PaymentSucceeded.model_validate_json(payment_json(text))
    again = PaymentSucceeded.model_validate_json(event.model_dump_json())
    assert again.amount == text
    assert Decimal(again.amount) == amount


def test_the_classic_float_trap_does_not_apply():
    event = PaymentSucceeded.model_validate_json(payment_json("0.30"))
    assert Decimal(event.amount) == Decimal("0.10") * 3
    assert '"amount":"0.30"' in event.model_dump_json()
