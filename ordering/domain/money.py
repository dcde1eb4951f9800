"""Money as Decimal with two places. On the wire it is a string ("12.30"), never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def parse_money(text: str) -> Decimal:
    """ "12.30" -> Decimal("12.30"). The schemas already guarantee the form."""
    return Decimal(text).quantize(CENT)


def format_money(amount: Decimal) -> str:
    """Decimal -> "12.30", rounding half-even to cents (bankers' rounding, as ledgers do)."""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_EVEN):f}"


def to_cents(amount: Decimal) -> int:
    """Decimal("12.30") -> 1230, for payment gateways that count in minor units."""
    return int((amount.quantize(CENT) * 100).to_integral_exact())
