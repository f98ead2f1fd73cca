"""Marshmallow fields that follow JSON's rules rather than Python's.

JSON Schema treats 1.0 as an integer and `true` as no number at all; Python's `int` and
marshmallow's defaults disagree on both. Money arrives as decimal strings and never
becomes a float.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar

from marshmallow import ValidationError, fields

from sandbox.core import money


class JsonInt(fields.Field):
    """An integer as JSON Schema sees it: 3 and 3.0 pass; "3", 3.5 and booleans do not."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Not a valid integer."}

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(f"Must be greater than or equal to {self.minimum}.")
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(f"Must be less than or equal to {self.maximum}.")
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class DecimalString(fields.Field):
    """A decimal amount sent as a string matching `pattern`; loads to Decimal (or, given
    `places`, to an integer scaled by 10**places: minor units), dumps as str."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Not a valid amount: expected a decimal string."}

    def __init__(self, pattern: str = r"[0-9]{1,12}(\.[0-9]{1,4})?", *, places: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pattern = re.compile(pattern)
        self.places = places

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal | int:
        try:
            amount = money.parse(value, self.pattern)
        except ValueError:
            raise self.make_error("invalid") from None
        return amount if self.places is None else money.to_scaled(amount, self.places)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class Text(fields.String):
    """A string that must not be empty, with an optional maximum length (JSON Schema's minLength 1)."""

    def __init__(self, *, max_length: int | None = None, allow_empty: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_length, self.allow_empty = max_length, allow_empty

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.allow_empty and text == "":
            raise ValidationError("Must not be empty.")
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(f"Longer than maximum length {self.max_length}.")
        return text


class JsonBool(fields.Field):
    """A JSON boolean: true or false only (not 1, "true" or "on", which marshmallow's Boolean takes)."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Not a valid boolean."}

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value

    def _serialize(self, value, attr, obj, **kwargs):
        return value
