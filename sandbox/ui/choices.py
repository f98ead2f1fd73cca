"""Form choices read from the contracts: each provider's operations, the error statuses each
documents, and the error codes each declares for a status (the `enum` of a `code` property
in that response's schema, wherever it sits: Purple Dot's `error.code`, say). A provider
whose contract names no codes for a status gets a free-text field instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.core.contracts import Contracts

CODE_PROPERTIES = frozenset({"code", "error_code", "errorCode"})


@dataclass(frozen=True)
class OperationChoice:
    provider: str
    operation: str
    method: str
    path: str
    error_statuses: tuple[int, ...]


def operations(contracts: Contracts, providers: list[str]) -> list[OperationChoice]:
    """Every provider operation with the error statuses its contract documents."""
    found = [OperationChoice(op.owner, op.operation_id, op.method, op.path,
                             tuple(sorted(s for s in op.statuses if s >= 400)))
             for op in contracts.operations.values() if op.owner in providers]
    return sorted(found, key=lambda c: (providers.index(c.provider), c.path, c.method))


def error_statuses(choices: list[OperationChoice]) -> list[int]:
    return sorted({s for c in choices for s in c.error_statuses} | {500, 502, 503, 504})


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, seen = target, seen + 1
    return node


def _codes_in(spec: dict[str, Any], node: Any, found: set[str], depth: int = 0) -> None:
    node = _resolve(spec, node)
    if not isinstance(node, dict) or depth > 12:
        return
    for name, sub in (node.get("properties") or {}).items():
        sub = _resolve(spec, sub)
        if name in CODE_PROPERTIES and isinstance(sub, dict):
            found.update(v for v in sub.get("enum", []) if isinstance(v, str))
            if isinstance(sub.get("const"), str):
                found.add(sub["const"])
        _codes_in(spec, sub, found, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            _codes_in(spec, sub, found, depth + 1)
    if "items" in node:
        _codes_in(spec, node["items"], found, depth + 1)


def codes(contracts: Contracts, providers: list[str], provider: str | None, operation: str | None,
          status: int | None) -> list[str]:
    """The error codes the providers' contracts declare for this (provider, operation,
    status); any of them that is not given counts as "every"."""
    found: set[str] = set()
    for op in contracts.operations.values():
        if op.owner not in providers or provider not in (None, op.owner) or operation not in (None, op.operation_id):
            continue
        spec = contracts.raw[op.owner]
        responses = spec["paths"][op.path][op.method.lower()].get("responses") or {}
        for code, response in responses.items():
            if not str(code).isdigit() or int(code) < 400 or status not in (None, int(code)):
                continue
            content = (_resolve(spec, response).get("content") or {}).get("application/json") or {}
            _codes_in(spec, content.get("schema"), found)
    return sorted(found)
