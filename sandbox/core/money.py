"""Money without floats: Decimal parsing, scaled integers and their string rendering.

Providers store amounts as integers scaled by 10**places (minor units, or Fire's 10**4
"internal scaled" prices) and render them back as fixed-point strings.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,8})?")


def parse(text: str) -> Decimal:
    """Parse a plain decimal string ("8.99", "-1", "10.7150"). No exponents, no floats.

    :raise ValueError: when the text is not a plain decimal number.
    """
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a decimal amount: {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"not a decimal amount: {text!r}") from exc


def to_scaled(amount: Decimal | str, places: int) -> int:
    """Decimal (or decimal string) -> integer scaled by 10**places, rounding half-even."""
    value = parse(amount) if isinstance(amount, str) else amount
    scaled = (value * (Decimal(10) ** places)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(scaled)


def from_scaled(scaled: int, places: int) -> Decimal:
    """Integer scaled by 10**places -> Decimal with exactly `places` decimals."""
    if isinstance(scaled, bool) or not isinstance(scaled, int):
        raise TypeError(f"scaled amounts are integers, got {type(scaled).__name__}")
    return Decimal(scaled).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def format_scaled(scaled: int, places: int) -> str:
    """Integer scaled by 10**places -> fixed-point string ("8.9900" for 89900 at 4 places)."""
    return f"{from_scaled(scaled, places):.{places}f}"
