"""The Runtime: the one object per app that holds shared state (store, credentials, clock...).

`create_app` builds it and keeps it in `app.extensions["refund_sandbox"]`; code serving a
request reaches it through `runtime()`. Nothing here is a module-level singleton, so two
apps in one process (as in the tests) never share state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from sandbox.core.auth import CredentialRegistry, TokenIssuer
from sandbox.core.clock import Clock
from sandbox.core.contracts import Contracts, SelfCheck
from sandbox.core.journal import Outbox
from sandbox.core.store import Store

if TYPE_CHECKING:
    from sandbox.core.provider import Provider
    from sandbox.settings import Settings

EXTENSION = "refund_sandbox"


@dataclass
class Runtime:
    settings: Settings
    providers: dict[str, Provider]
    store: Store
    contracts: Contracts
    credentials: CredentialRegistry
    tokens: TokenIssuer = field(default_factory=TokenIssuer)
    clock: Clock = field(default_factory=Clock)
    outbox: Outbox = field(default_factory=Outbox)
    selfcheck: SelfCheck = field(default_factory=SelfCheck)

    def mount(self, key: str) -> str:
        """The URL prefix a provider is served under ("" when it is the only one)."""
        return "" if self.settings.only == key else f"/{key}"

    def reset_tenant(self, tenant: str) -> None:
        """Back to the fixtures: store, notifications and clock of this tenant."""
        self.store.reset(tenant)
        self.outbox.clear(tenant)
        self.clock.reset(tenant)


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]
