"""Money without floats: Decimal parsing, scaled integers and their string rendering.

Providers store amounts as integers scaled by 10**places (minor units, or an API's own
scale such as 10**4 "internal scaled" prices) and render them back as fixed-point strings.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,8})?")


def parse(text: str, pattern: re.Pattern[str] = _DECIMAL) -> Decimal:
    """Parse a decimal string ("8.99", "-1", "10.7150") that matches `pattern` (by default a
    plain decimal: digits, an optional sign and fraction). No exponents, no floats.

    :raise ValueError: when the text does not match, or is no number at all ("-", ".").
    """
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise ValueError(f"not a decimal amount: {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # a pattern that admits "" or "." (as some APIs do)
        raise ValueError(f"not a decimal amount: {text!r}") from exc


def to_scaled(amount: Decimal | str, places: int) -> int:
    """Decimal (or decimal string) -> integer scaled by 10**places, rounding half-even."""
    value = parse(amount) if isinstance(amount, str) else amount
    scaled = (value * (Decimal(10) ** places)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(scaled)


def format_scaled(scaled: int, places: int) -> str:
    """Integer scaled by 10**places -> fixed-point string ("8.9900" for 89900 at 4 places).

    Integer arithmetic only (the same digits as Decimal's scaleb, a fifth of the time: every
    money field of every answer goes through here, 32 of them in one refund answer)."""
    if scaled.__class__ is not int and (isinstance(scaled, bool) or not isinstance(scaled, int)):
        raise TypeError(f"scaled amounts are integers, got {type(scaled).__name__}")
    whole, fraction = divmod(abs(scaled), 10**places)
    sign = "-" if scaled < 0 else ""
    return f"{sign}{whole}.{str(fraction).zfill(places)}" if places else f"{sign}{whole}"


#: ISO 4217 minor-unit exponents other than the usual 2.
EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def exponent(currency: str) -> int:
    """Decimals of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return EXPONENTS.get(currency, 2)


def to_minor(amount: Decimal | str, currency: str) -> int:
    """An amount in the currency's minor units, refusing more decimals than the currency has.

    :raise ValueError: not a plain decimal, or too precise for the currency ("1.234" USD).
    """
    value = parse(amount) if isinstance(amount, str) else amount
    places = exponent(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{currency} amounts have at most {places} decimals")
    return to_scaled(value, places)


def format_minor(minor: int, currency: str) -> str:
    """Minor units as the currency's decimal string (2500 USD -> "25.00", 1200 JPY -> "1200")."""
    return format_scaled(minor, exponent(currency))


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` minor units in proportion to `weights`, exactly (largest remainder).

    Each part is floor(total * w / sum(w)); the units left over go one each to the parts
    with the largest remainders, ties to the earlier part. The parts always add up to
    `total`, and no part exceeds its weight while total <= sum(weights).
    """
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts
