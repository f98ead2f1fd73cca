"""The base classes of every marshmallow schema that loads a request: what unknown keys do.

`In` ignores them (as most real APIs do), `Strict` refuses them (a 4xx naming the key) and
`Open` keeps them (free-form objects a provider stores as sent).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema


class In(Schema):
    """Unknown keys are ignored."""

    class Meta:
        unknown = EXCLUDE


class Strict(Schema):
    """Unknown keys are refused."""

    class Meta:
        unknown = RAISE


class Open(Schema):
    """Unknown keys are kept as sent."""

    class Meta:
        unknown = INCLUDE
