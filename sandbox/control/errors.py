"""The control plane's error body: `{"error": {"code", "message", "field"?}}`.

Also the body for paths that belong to no provider at all.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import SandboxError


def render(err: SandboxError, info: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": err.code or err.kind.value, "message": err.message}
    if err.field:
        error["field"] = err.field
    return {"error": error}
