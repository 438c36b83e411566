"""Every rounding and Decimal formatting rule of the pricing engine lives here (pfs-rules 2.3).

* Money is rounded half-up to cents: the fee schedule amount (FSA) of one unit, then the line payment once
  (``round(FSA x combined factor x units)``), unit by unit only where units carry different factors.
* wRVU credit is kept exact; display values are rounded half-up to 0.01; totals are summed from exact values.
* Anaesthesia time units are minutes / 15 rounded half-up to a configurable number of decimals (default 1).

No floats anywhere: :func:`dec` refuses them unless they come from JSON text (``repr`` round-trips).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "CENT",
    "HUNDREDTH",
    "ONE",
    "ZERO",
    "cents",
    "dec",
    "fmt_cents",
    "fmt_exact",
    "fmt_opt_cents",
    "mul_factor",
    "round_places",
    "round_wrvu",
    "time_units",
]

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")
HUNDREDTH = CENT
FIFTEEN = Decimal("15")
_QUANT: dict[int, Decimal] = {n: Decimal(1).scaleb(-n) for n in range(0, 9)}


def dec(value: object, what: str = "value") -> Decimal:
    """Parse a Decimal from str/int/Decimal (a float only via its shortest repr, e.g. from JSON)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, got a boolean")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what}: {value!r} is not a number") from None
    else:
        raise ValueError(f"{what}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return result


def cents(amount: Decimal) -> Decimal:
    """Round half-up to cents."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def round_wrvu(amount: Decimal) -> Decimal:
    """wRVU display value: half-up to 0.01."""
    return amount.quantize(HUNDREDTH, ROUND_HALF_UP)


def round_places(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(_QUANT.get(places) or Decimal(1).scaleb(-places), ROUND_HALF_UP)


def time_units(minutes: int | Decimal, places: int = 1) -> Decimal:
    """Anaesthesia time units: minutes / 15, half-up to ``places`` decimals (129 min -> 8.6)."""
    return round_places(Decimal(minutes) / FIFTEEN, places)


def mul_factor(a: Decimal, b: Decimal) -> Decimal:
    """Multiply two payment/credit factors, shown to the precision of the more precise operand.

    ``0.16 x 0.5`` is ``0.08`` (not ``0.080``) while a file share such as ``0.70`` keeps its two
    decimals; a product that needs more digits keeps them (``0.625 x 0.5 = 0.3125``).
    """
    if a is ONE:
        return b
    if b is ONE:
        return a
    if not a:
        return a
    if not b:
        return b
    result = a * b
    places = -min(a.as_tuple().exponent, b.as_tuple().exponent)  # type: ignore[operator]
    if -result.as_tuple().exponent > places:  # type: ignore[operator]
        trimmed = result.quantize(_QUANT.get(places) or Decimal(1).scaleb(-places))
        if trimmed == result:
            return trimmed
    return result


def fmt_cents(amount: Decimal) -> str:
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def fmt_opt_cents(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(CENT, ROUND_HALF_UP))


def fmt_exact(amount: Decimal) -> str:
    """Exact value without trailing zeros or exponent: 1.30 -> '1.3', 0.00 -> '0', 1E+2 -> '100'."""
    if not amount:
        return "0"
    text = format(amount.normalize(), "f")
    return text
