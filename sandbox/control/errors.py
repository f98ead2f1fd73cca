"""The control plane's error body: `{"error": {"code", "message", "field"?}}`.

Also the body for paths that belong to no provider at all.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import SandboxError, error_object


def render(err: SandboxError, info: Any) -> dict[str, Any]:
    return {"error": error_object(err)}
