"""Money is a `Decimal` with a currency code, never a float.

to_decimal("53.15") == Decimal("53.15")
to_decimal(12.3) == Decimal("12.30")       # WooCommerce sends line `price` as a JSON float
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Our columns hold 12 digits before the point: anything larger is bad input, not a real order.
MAX_AMOUNT = Decimal("999999999999.99")


class InvalidAmount(ValueError):
    pass


def to_decimal(value: object, *, places: Decimal = CENT) -> Decimal:
    """Parse a WooCommerce money value (string, int, float or None) into a quantised Decimal.

    Floats go through `repr` so 12.3 becomes 12.30, not 12.2999999…; None and "" mean zero."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise InvalidAmount(f"not an amount: {value!r}")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidAmount(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidAmount(f"not an amount: {value!r}")
    quantised = amount.quantize(places, rounding=ROUND_HALF_UP)
    if abs(quantised) > MAX_AMOUNT:
        raise InvalidAmount(f"amount out of range: {value!r}")
    return quantised
