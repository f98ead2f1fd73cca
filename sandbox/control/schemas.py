"""Marshmallow schemas for control-plane request bodies."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from sandbox.core import tenancy
from sandbox.core.errors import SandboxError
from sandbox.core.fields import JsonBool, JsonInt, Text
from sandbox.core.schemas import Strict


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


class FaultIn(Strict):
    provider = Text(load_default=None, max_length=64)
    operation = Text(load_default=None, max_length=128)
    order_ref = Text(load_default=None, max_length=255)
    status = JsonInt(load_default=None, minimum=400, maximum=599)
    code = Text(load_default=None, max_length=128)
    delay_ms = JsonInt(load_default=0, minimum=0, maximum=60_000)
    drop_connection = JsonBool(load_default=False)
    timeout_after_commit = JsonBool(load_default=False)
    hold_ms = JsonInt(load_default=10_000, minimum=0, maximum=120_000)
    times = JsonInt(load_default=None, minimum=1, maximum=1_000_000)
    probability = fields.Float(load_default=None, validate=validate.Range(min=0, max=1), allow_nan=False)
    seed = JsonInt(load_default=None, minimum=0, maximum=2**31 - 1)

    @validates_schema
    def _one_effect(self, data, **kwargs) -> None:
        if data["code"] is not None and not data["status"]:
            raise ValidationError("code needs a status: it is one of the error codes declared for that status", "code")
        if not (data["status"] or data["delay_ms"] or data["drop_connection"] or data["timeout_after_commit"]):
            raise ValidationError("give at least one effect: status, delay_ms, drop_connection or "
                                  "timeout_after_commit", "status")
        if data["drop_connection"] and (data["status"] or data["timeout_after_commit"]):
            raise ValidationError("drop_connection cannot be combined with status or timeout_after_commit",
                                  "drop_connection")
        if data["status"] and data["timeout_after_commit"]:
            raise ValidationError("status cannot be combined with timeout_after_commit", "status")


class RequestsQuery(Strict):
    provider = Text(load_default=None, max_length=64)
    operation = Text(load_default=None, max_length=128)
    status = fields.Integer(load_default=None, strict=False, validate=validate.Range(min=100, max=599))
    since = fields.DateTime(load_default=None)
    limit = fields.Integer(load_default=50, strict=False, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, strict=False, validate=validate.Range(min=0))


class WebhookIn(Strict):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Predicate("isascii", error="URLs must be ASCII (punycode hosts)."))


SCENARIO = ScenarioIn()
WEBHOOK = WebhookIn()
FAULT = FaultIn()
REQUESTS_QUERY = RequestsQuery()
CREDENTIAL = CredentialIn()
CLOCK = ClockIn()
