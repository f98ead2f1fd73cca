"""Marshmallow schemas for control-plane request bodies."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validates

from sandbox.core import tenancy
from sandbox.core.errors import SandboxError
from sandbox.core.fields import JsonInt, Text


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ScenarioIn(Strict):
    count = JsonInt(minimum=1, maximum=100, load_default=1)
    seed = JsonInt(minimum=0, maximum=2**31 - 1, load_default=None, allow_none=True)
    overrides = fields.Dict(keys=fields.String(), load_default=dict)


class CredentialIn(Strict):
    provider = Text(required=True, max_length=64)
    credential = Text(required=True, max_length=512)
    tenant = Text(required=True, max_length=64)
    scopes = fields.List(Text(max_length=64), load_default=None, allow_none=True)

    @validates("tenant")
    def _tenant(self, value: str, **kwargs) -> None:
        try:
            tenancy.check_name(value, "tenant")
        except SandboxError as exc:
            raise ValidationError(exc.message) from None


class ClockIn(Strict):
    seconds = JsonInt(required=True, minimum=0, maximum=10 * 366 * 86400)


SCENARIO = ScenarioIn()
CREDENTIAL = CredentialIn()
CLOCK = ClockIn()
