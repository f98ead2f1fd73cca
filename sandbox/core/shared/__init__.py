"""The shared store: every piece of runtime state in Redis, for many processes and machines.

`parts(settings, ...)` builds the Runtime's stateful parts over one Redis (`--store
redis://HOST:PORT/DB`), each with the calls of its in-process twin, so providers, control
plane and dashboard do not know which store they run on. `install(app)` makes a store that
stops answering mid-run a 503 in the owner's own format (the contract's `Injected503`),
naming the store in `X-Sandbox-Error-Detail`; nothing is half-written, because each commit
is one Lua script, and the next request after Redis is back is served as usual.

Nothing connects before the first request of a process (a forked worker makes its own
connection); `check_reachable` pings once at start-up so a wrong URL is a one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request

from sandbox.core.errors import ERROR_PAGES
from sandbox.core.shared import memo
from sandbox.core.shared.faults import SharedFaultBook
from sandbox.core.shared.journal import SharedJournal, SharedOutbox
from sandbox.core.shared.link import Link, StoreDown
from sandbox.core.shared.state import SharedClock, SharedCredentials, SharedTokens, webhooks
from sandbox.core.shared.store import SharedStore

__all__ = ["Link", "StoreDown", "install", "parts", "unavailable"]

STATUS = 503


def parts(settings: Any, fixtures: Mapping[str, dict], keys: Mapping[str, Mapping[str, str | None]],
          secrets: Any) -> dict[str, Any]:
    """The Runtime's stateful parts over the Redis at `settings.store`, once it answers.

    :raise ConfigError: Redis does not answer at that URL.
    """
    from sandbox.settings import ConfigError

    link = Link(settings.store)
    try:
        link.check()
    except StoreDown as exc:
        raise ConfigError(f"cannot reach redis at {settings.store} ({exc.reason}); start Redis there or fix "
                          "--store (REFUND_SANDBOX_STORE)") from None
    except ValueError as exc:  # redis-py: a URL it cannot parse
        raise ConfigError(f"--store {settings.store!r} is not a usable Redis URL ({exc}); give "
                          "redis://HOST:PORT/DB") from None
    finally:
        link.close()  # `serve --workers N` forks after this: each worker opens its own connection
    return {"store": SharedStore(link, fixtures, keys), "credentials": SharedCredentials(link),
            "tokens": SharedTokens(link), "clock": SharedClock(link),
            "outbox": SharedOutbox(link, settings.outbox_limit, settings.outbox_total),
            "journal": SharedJournal(link, settings.journal_limit, settings.journal_total, secrets),
            "faults": SharedFaultBook(link), "webhooks": webhooks(link)}


def install(app: Flask) -> None:
    """The store-down 503, and each provider request's snapshot of its tenant (memo.prefetch)."""
    app.register_error_handler(StoreDown, store_down)
    app.before_request(memo.prefetch)  # after the pipeline's begin(): the tenant is known


def store_down(exc: StoreDown) -> Response:
    """503 in the owner's format, with the code its contract declares for 503 (Injected503)."""
    from sandbox.core import context, pipeline
    from sandbox.core.faults import injected_error
    from sandbox.core.runtime import runtime

    ctx = context.current()
    codes: dict[str, Any] = {}
    if ctx is not None and ctx.provider is not None:
        contracts = runtime().contracts
        operation = ctx.operation or next(iter(contracts.operation_ids(ctx.provider.key)), "")
        codes = contracts.error_codes(ctx.provider.key, operation, STATUS)
    if codes:
        return pipeline.render(explained(injected_error(STATUS, codes, None, request.method,
                                                        pipeline.request_info().path), exc))
    page = current_app.extensions.get(ERROR_PAGES, {}).get(request.blueprint or "")
    if page is not None:  # the dashboard: its own error page, in HTML
        return page(unavailable(exc))
    return pipeline.render(unavailable(exc))  # the control plane: its own words


def unavailable(exc: StoreDown) -> Any:
    """The control plane's and the dashboard's SandboxError for a store that does not answer."""
    from sandbox.core.errors import Kind, SandboxError

    return explained(SandboxError(Kind.INTERNAL, "the sandbox's shared store does not answer; retry later",
                                  status=STATUS, code="store_unavailable"), exc)


def explained(err: Any, exc: StoreDown) -> Any:
    """The error with the store named in its detail and Retry-After: 1."""
    err.detail = (f"{exc}; the store may have applied the change before its answer was lost: retry with the "
                  "same idempotency key, or read the state first" if getattr(exc, "sent", False) else
                  f"{exc}; nothing was written: retry once the store is back")
    err.headers["Retry-After"] = "1"
    return err
