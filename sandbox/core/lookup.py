"""Looking documents up from rules: what a rule may read, and "found, or the provider's 404".

Rules stay pure: they read through a `Reader` (a store transaction is one; so is any
object with `get` and `all`), never through Flask or TinyDB, and every "no such order"
goes through `require` with the provider's own error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sandbox.core.errors import SandboxError

T = TypeVar("T")


class Reader(Protocol):
    """Read access to one provider's tables of one tenant (sandbox.core.store.Tx has it)."""

    def get(self, table: str, key: str) -> dict[str, Any] | None: ...

    def all(self, table: str) -> list[dict[str, Any]]: ...


def require(found: T | None, missing: Callable[[], SandboxError]) -> T:
    """`found`, unless it is None: then the error `missing()` builds (the provider's 404).

    :raise SandboxError: missing() when nothing was found."""
    if found is None:
        raise missing()
    return found
