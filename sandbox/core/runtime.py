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
from sandbox.core.faults import FaultBook
from sandbox.core.journal import Outbox, RequestJournal
from sandbox.core.store import Store
from sandbox.core.webhooks import Deliverer

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
    journal: RequestJournal = field(default_factory=RequestJournal)
    faults: FaultBook = field(default_factory=FaultBook)
    selfcheck: SelfCheck = field(default_factory=SelfCheck)
    deliverer: Deliverer = field(default_factory=Deliverer)
    webhooks: dict[str, str] = field(default_factory=dict)  # tenant -> URL

    def __post_init__(self) -> None:
        self.store.notifier = self.notify  # what a transaction stages with tx.notify is sent on commit

    def webhook_url(self, tenant: str) -> str | None:
        """Where the tenant's notifications go: its own URL, else --webhook-url, else nowhere."""
        return self.webhooks.get(tenant) or self.settings.webhook_url

    def notify(self, tenant: str, provider: str, kind: str, payload: dict, now) -> dict:
        """Record what the provider would have sent; POST it to the tenant's webhook, if any,
        from the background deliverer (never delaying the API answer)."""
        url = self.webhook_url(tenant)
        item = self.outbox.record(tenant, provider, kind, payload, now, delivering=bool(url))
        if url:
            self.deliverer.submit(url, {k: v for k, v in item.items() if k not in ("deliveries", "delivered")},
                                  lambda record: self.outbox.attempt(tenant, item["id"], record))
        return item

    def mount(self, key: str) -> str:
        """The URL prefix a provider is served under ("" when it is the only one)."""
        return "" if self.settings.only == key else f"/{key}"

    def close(self) -> None:
        """The last step of a server's life: stop the webhook deliverer, close the tenants' files."""
        self.deliverer.stop()
        self.store.close()

    def reset_tenant(self, tenant: str) -> None:
        """Back to the fixtures: store, notifications, journal, faults and clock of this tenant."""
        self.store.reset(tenant)
        self.outbox.clear(tenant)
        self.journal.clear(tenant)
        self.faults.clear(tenant)
        self.clock.reset(tenant)


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]
