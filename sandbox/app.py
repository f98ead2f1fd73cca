"""create_app(settings): the Flask app with the pipeline, every provider and the control plane."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify

from sandbox import core
from sandbox.control import bp as control_bp
from sandbox.core import idempotency
from sandbox.core.auth import CredentialRegistry
from sandbox.core.contracts import Contracts
from sandbox.core.faults import FaultMiddleware
from sandbox.core.journal import Outbox, RequestJournal
from sandbox.core.pipeline import CONTROL_CONTRACT
from sandbox.core.runtime import EXTENSION, Runtime
from sandbox.core.store import Store
from sandbox.providers import PROVIDERS
from sandbox.settings import Settings
from sandbox.ui import bp as ui_bp


def load_fixtures(fixtures_dir: Path, keys: list[str]) -> dict[str, dict]:
    """fixtures/<key>.json for every provider (TinyDB layout); a missing file is an error."""
    return {key: json.loads((fixtures_dir / f"{key}.json").read_text(encoding="utf-8")) for key in keys}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.load()
    providers = {p.key: p for p in PROVIDERS}
    if settings.only is not None and settings.only not in providers:
        raise ValueError(f"--only {settings.only!r}: unknown provider (known: {', '.join(providers)})")
    keys = {key: {**p.tables, idempotency.TABLE: idempotency.KEY_FIELD} for key, p in providers.items()}
    store = Store(load_fixtures(settings.fixtures_dir, list(providers)), keys, settings.data_dir)
    rt = Runtime(settings=settings, providers=providers, store=store,
                 contracts=Contracts(settings.contracts_dir, [*providers, CONTROL_CONTRACT]),
                 credentials=CredentialRegistry(settings.data_dir),
                 outbox=Outbox(settings.outbox_limit, settings.outbox_total),
                 journal=RequestJournal(settings.journal_limit, settings.journal_total))

    app = Flask("sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # larger bodies: 413 in the owner's format
    app.extensions[EXTENSION] = rt
    core.install(app)
    app.wsgi_app = FaultMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    for key, provider in providers.items():
        if settings.only not in (None, key):
            continue
        mount = rt.mount(key)
        app.register_blueprint(provider.blueprint, url_prefix=mount or None)
        app.add_url_rule(f"{mount}/openapi.json", endpoint=f"contract_{key}",
                         view_func=_contract_view(rt, key, mount))
    app.register_blueprint(control_bp)
    app.register_blueprint(ui_bp)
    app.add_url_rule("/_sandbox/openapi.json", endpoint="contract_control",
                     view_func=_contract_view(rt, CONTROL_CONTRACT, ""))
    return app


def wsgi_server(app: Flask, *, host: str, port: int) -> Any:
    """The app under waitress, as `refund-sandbox serve` runs it (threads from the settings).

    Bodies over the sandbox's limit are refused by the app, in the owner's format (413).
    waitress itself refuses only bodies over 16 times that, before buffering them, with its
    own plain-text 413, so a hostile upload can neither fill the disk nor reach the app.
    """
    from waitress import create_server

    settings = app.extensions[EXTENSION].settings
    return create_server(app, host=host, port=port, threads=settings.threads, ident="refund-sandbox",
                         max_request_body_size=16 * settings.max_body_bytes)


def run_until_stopped(server: Any, *cleanup: Callable[[], None]) -> None:
    """Serve until SIGTERM or Ctrl-C (exit 0 either way), then close the server and run `cleanup`."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        for step in cleanup:
            step()


def _contract_view(rt: Runtime, owner: str, mount: str):
    def serve_contract():
        return jsonify(rt.contracts.served(owner, mount))

    return serve_contract
