"""The Provider type (a provider is data), Scenario and SeededOrder, and the `Call` a view gets.

A provider is its key, blueprint, auth scheme, error renderer, tables, scenarios and a few
declared traits (validation status, secret body fields, APPEND_SLASH, untyped JSON bodies).
`@operation`, re-exported here for the providers' routes, is step 2-5 of the request
pipeline (sandbox.core.pipeline): authenticate, check the scope, inject faults, load the
inputs with marshmallow, and hand the view a `Call`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask import Blueprint
from marshmallow import Schema, ValidationError

from sandbox.core.auth import Principal
from sandbox.core.context import RequestInfo
from sandbox.core.errors import RawBody, SandboxError, from_validation

__all__ = ["BodyParser", "Call", "Loader", "Provider", "RequestInfo", "Scenario", "SeededOrder", "load", "operation",
           "scenario_family"]


@dataclass(frozen=True)
class SeededOrder:
    """What a scenario builds: the stored order, other documents, and the handles to address it."""

    order: dict[str, Any]
    order_ref: str | int  # of the type the refund request takes (an integer where the API wants one)
    currency: str
    line_item_refs: list[str] = field(default_factory=list)
    transaction_refs: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """A named, seeded way to build orders that lead to one documented outcome."""

    name: str
    description: str
    outcome: str
    build: Callable[[Any, Mapping[str, Any]], SeededOrder]
    overrides: Schema | None = None  # what `overrides` may set; unknown keys are refused

    @property
    def overridable(self) -> list[str]:
        return sorted(f.data_key or name for name, f in self.overrides.fields.items()) if self.overrides else []


def scenario_family(key: str, build: Callable[[Any, str, Mapping[str, Any]], SeededOrder], overrides: Schema,
                    entries: list[tuple[str, str, str]]) -> tuple[Scenario, ...]:
    """One Scenario per (kind, description, outcome), named "<key>.<kind>", built by
    build(fake, kind, overrides)."""
    return tuple(Scenario(f"{key}.{kind}", description, outcome,
                          lambda fake, given, kind=kind: build(fake, kind, given), overrides)
                 for kind, description, outcome in entries)


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    blueprint: Blueprint
    auth: Any
    render_error: Callable[[SandboxError, RequestInfo], dict[str, Any] | RawBody]
    tables: Mapping[str, str | None]
    present_order: Callable[[dict[str, Any]], dict[str, Any]]
    scenarios: tuple[Scenario, ...] = ()
    validation_status: int = 400
    #: Body fields (request or response) that carry a secret, such as a login's password or
    #: the token it issues: the journal shows them redacted, with the headers `auth` reads.
    secret_fields: frozenset[str] = frozenset()
    #: Django's APPEND_SLASH: a known path without its trailing slash answers 301 to the
    #: slashed URL (else such a path is an unknown route, 404).
    append_slash: bool = False
    order_table: str = "orders"
    refund_table: str = "refunds"
    #: Called in a transaction when the tenant's clock moves (POST /_sandbox/clock/advance),
    #: so time-driven state (pending refunds) moves on: on_clock(tx, now).
    on_clock: Callable[[Any, datetime], None] | None = None
    #: The order a request addresses (for fault rules matched by order_ref): from the path
    #: arguments by default; providers that address orders in the body say how.
    order_ref_of: Callable[[Mapping[str, Any], Any], str | None] = (
        lambda path, body: str(next(iter(path.values()))) if path else None)
    #: A body sent without any Content-Type is read as JSON (the API documents
    #: application/json as the default); a non-JSON Content-Type is still refused.
    untyped_body_is_json: bool = False


class Loader(Protocol):
    """What @operation loads an input with: a marshmallow Schema, or a `BodyParser`."""

    def load(self, data: Any) -> Any: ...


@dataclass(frozen=True)
class BodyParser:
    """A request body checked in one hand-written pass: `parse(document)` checks every field
    and raises the provider's own SandboxError (with its own codes, which marshmallow cannot
    tell apart); what it returns is the view's `call.body`. For a body whose rules are the
    provider's, so that no second pass repeats what a schema already did."""

    parse: Callable[[dict[str, Any]], Any]

    def load(self, data: dict[str, Any]) -> Any:
        return self.parse(data)


@dataclass(frozen=True)
class Call:
    """A request that passed auth and validation: who, for which tenant, with what data."""

    provider: Provider
    tenant: str
    principal: Principal | None
    headers: dict[str, Any]
    body: Any  # the loaded body: a dict from a marshmallow schema, what a BodyParser returns, or None
    query: dict[str, Any] = field(default_factory=dict)


def load(schema: Schema | Loader, data: Any, status: int) -> Any:
    """marshmallow load (or a BodyParser's); a ValidationError becomes a SandboxError naming the
    first bad field."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise from_validation(exc.messages, status=status) from None


def operation(**spec: Any) -> Callable:
    """The @operation every view wears: steps 2-5 of the pipeline (sandbox.core.pipeline)."""
    from sandbox.core.pipeline import operation as wrap  # the pipeline builds on these types

    return wrap(**spec)
