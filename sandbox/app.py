"""create_app(settings): the Flask app with the pipeline, every provider and the control plane."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from flask import Flask, jsonify

from sandbox import core
from sandbox.control import CONTRACT as CONTROL_CONTRACT
from sandbox.control import FALLBACK as CONTROL
from sandbox.control import bp as control_bp
from sandbox.core import idempotency
from sandbox.core.auth import CredentialRegistry
from sandbox.core.contracts import Contracts
from sandbox.core.edge import WireEdge
from sandbox.core.journal import Outbox, RequestJournal, Secrets
from sandbox.core.provider import Provider
from sandbox.core.runtime import EXTENSION, Runtime
from sandbox.core.store import Store, freeze_heap
from sandbox.providers import PROVIDERS
from sandbox.settings import ConfigError, Settings
from sandbox.ui import bp as ui_bp


def load_fixtures(fixtures_dir: Path, keys: list[str]) -> dict[str, dict]:
    """fixtures/<key>.json for every provider (TinyDB layout).

    :raise ConfigError: a file is missing, unreadable, or not a JSON object.
    """
    fixtures = {}
    for key in keys:
        path = fixtures_dir / f"{key}.json"
        try:
            fixtures[key] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"fixtures file {path} cannot be used ({reason}); fix it, or point "
                              "REFUND_SANDBOX_FIXTURES_DIR at a directory of valid ones") from None
        if not isinstance(fixtures[key], dict):
            raise ConfigError(f"fixtures file {path} must hold a JSON object of tables; fix it, or point "
                              "REFUND_SANDBOX_FIXTURES_DIR at a directory of valid ones")
    return fixtures


def check_data_dir(path: Path) -> None:
    """Create `--data-dir` if needed and make sure the sandbox can read and write it.

    :raise ConfigError: it is a file, cannot be created, or is not readable and writable.
    """
    way_out = "choose another with --data-dir (or REFUND_SANDBOX_DATA_DIR), or fix its permissions"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"--data-dir {path} is a file, not a directory; {way_out}") from None
    except OSError as exc:
        raise ConfigError(f"--data-dir {path} cannot be created ({exc.strerror}); {way_out}") from None
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(f"--data-dir {path} is not readable and writable by this user; {way_out}")


def _credentials(data_dir: Path | None) -> CredentialRegistry:
    try:
        return CredentialRegistry(data_dir)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{data_dir}/credentials.json cannot be read ({exc}); fix or remove it") from None


def mounted(only: str | None, every: Sequence[Provider] = PROVIDERS) -> dict:
    """The providers a sandbox with this `--only` serves: all of them, or that one.

    :raise ConfigError: `only` names no provider.
    """
    providers = {p.key: p for p in every}
    if only is not None and only not in providers:
        raise ConfigError(f"--only {only!r} is not a provider; use one of: {', '.join(providers)}")
    return {key: p for key, p in providers.items() if only in (None, key)}


def create_app(settings: Settings | None = None, providers: Sequence[Provider] = PROVIDERS) -> Flask:
    """The sandbox app, serving `providers` (every provider in sandbox.providers by default;
    each needs `<contracts_dir>/<key>.openapi.yaml` and `<fixtures_dir>/<key>.json`).

    :raise ConfigError: a setting or a start-up input (fixtures, data dir) cannot be used.
    """
    settings = settings or Settings.load()
    served = mounted(settings.only, providers)
    if settings.data_dir is not None:
        check_data_dir(settings.data_dir)
    # the store keeps every provider's tables, so a data dir written by a full sandbox loads under --only
    keys = {p.key: {**p.tables, idempotency.TABLE: idempotency.KEY_FIELD} for p in providers}
    fixtures = load_fixtures(settings.fixtures_dir, list(keys))
    if settings.store:  # every piece of state in Redis, shared by every process pointed at it
        from sandbox.core import shared

        state = shared.parts(settings, fixtures, keys, Secrets.of(providers))
    else:
        state = {"store": Store(fixtures, keys, settings.data_dir), "credentials": _credentials(settings.data_dir),
                 "outbox": Outbox(settings.outbox_limit, settings.outbox_total),
                 "journal": RequestJournal(settings.journal_limit, settings.journal_total, Secrets.of(providers))}
    rt = Runtime(settings=settings, providers=served,
                 contracts=Contracts(settings.contracts_dir, [*served, CONTROL_CONTRACT]), **state)

    app = Flask("sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # larger bodies: 413 in the owner's format
    app.extensions[EXTENSION] = rt
    core.install(app, CONTROL)
    if settings.store:
        shared.install(app)  # the store not answering: a 503 in the owner's format
    app.wsgi_app = WireEdge(app.wsgi_app)  # type: ignore[method-assign]
    for key, provider in served.items():
        mount = rt.mount(key)
        app.register_blueprint(provider.blueprint, url_prefix=mount or None)
        app.add_url_rule(f"{mount}/openapi.json", endpoint=f"contract_{key}",
                         view_func=_contract_view(rt, key, mount))
    app.register_blueprint(control_bp)
    app.register_blueprint(ui_bp)
    app.add_url_rule("/_sandbox/openapi.json", endpoint="contract_control",
                     view_func=_contract_view(rt, CONTROL_CONTRACT, ""))
    freeze_heap()  # modules, the app and the fixtures live as long as the process: out of the collector's way
    return app


def _contract_view(rt: Runtime, owner: str, mount: str):
    def serve_contract():
        return jsonify(rt.contracts.served(owner, mount))

    return serve_contract
