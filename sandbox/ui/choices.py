"""Form choices read from the contracts: each provider's operations, the error statuses each
declares, and the error codes each declares for a status (`x-sandbox-error-codes`), exactly
what `POST /_sandbox/faults` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.core.contracts import Contracts


@dataclass(frozen=True)
class OperationChoice:
    provider: str
    operation: str
    method: str
    path: str
    error_statuses: tuple[int, ...]


def operations(contracts: Contracts, providers: list[str]) -> list[OperationChoice]:
    """Every provider operation with the error statuses its contract declares."""
    found = [OperationChoice(op.owner, op.operation_id, op.method, op.path,
                             tuple(sorted(s for s in op.statuses if s >= 400)))
             for key in providers for op in (contracts.operations[(key, o)] for o in contracts.operation_ids(key))]
    return sorted(found, key=lambda c: (providers.index(c.provider), c.path, c.method))


def error_statuses(choices: list[OperationChoice]) -> list[int]:
    return sorted({s for c in choices for s in c.error_statuses})


def codes(contracts: Contracts, providers: list[str], provider: str | None, operation: str | None,
          status: int | None) -> list[str]:
    """The error codes the contracts declare for this (provider, operation, status), the most
    generic first; any of them that is not given counts as "every"."""
    found: dict[str, None] = {}
    for key in providers:
        if provider not in (None, key):
            continue
        for op_id in contracts.operation_ids(key):
            if operation not in (None, op_id):
                continue
            for code_status in sorted(contracts.operations[(key, op_id)].statuses):
                if code_status >= 400 and status in (None, code_status):
                    found.update(dict.fromkeys(contracts.error_codes(key, op_id, code_status)))
    return list(found)
