"""The dashboard's Blueprint and what every page shares: the tenant it shows, links that keep
that tenant, the vendored assets, and errors rendered as HTML pages with the right status.

The tenant is the `tenant` query parameter (forms carry it as a field), else "default"; an
invalid name is a 400. Errors raised by the control plane's functions (SandboxError) keep
their status and message and are shown on a page instead of the control plane's JSON body.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, url_for

from sandbox.core import context, explain, tenancy
from sandbox.core.errors import ERROR_PAGES, Kind, SandboxError

bp = Blueprint("_sandbox_ui", __name__, url_prefix="/_sandbox/ui", template_folder="templates")
STATIC = Path(__file__).parent / "static"
EXTENSION = "refund_sandbox_ui"
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
SEEDED_KEPT = 100  # seeding results kept for their landing pages (the newest, across tenants)


@dataclass
class UiState:
    """Per app: the key that signs sessions and CSRF tokens, and recent seeding results."""

    key: bytes
    seeded: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep_seeded(self, result: dict[str, Any]) -> str:
        batch = secrets.token_urlsafe(9)
        with self.lock:
            self.seeded[batch] = result
            while len(self.seeded) > SEEDED_KEPT:
                self.seeded.popitem(last=False)
        return batch

    def sign(self, purpose: str, value: str) -> str:
        return hmac.new(self.key, f"{purpose}:{value}".encode(), sha256).hexdigest()


@bp.record_once
def _setup(setup_state) -> None:
    """Sessions survive a restart when a control token is set (the key derives from it)."""
    app = setup_state.app
    token = app.extensions["refund_sandbox"].settings.control_token
    key = hmac.new(token.encode(), b"refund-sandbox dashboard", sha256).digest() if token else secrets.token_bytes(32)
    app.extensions[EXTENSION] = UiState(key)
    app.extensions.setdefault(ERROR_PAGES, {})[bp.name] = error_page  # e.g. the shared store down: 503


def ui_state() -> UiState:
    return current_app.extensions[EXTENSION]


def tenant() -> str:
    """The tenant this request shows or changes.  :raise 400: an invalid tenant name."""
    cached = g.get("ui_tenant")
    if cached:
        return cached
    name = request.values.get("tenant", tenancy.DEFAULT)
    g.ui_tenant = tenancy.check_name(name, "tenant")
    ctx = context.current()
    if ctx is not None:  # the answer's X-Sandbox-Tenant echoes the tenant the page shows
        ctx.tenant = g.ui_tenant
    return g.ui_tenant


def see_other(location: str) -> Response:
    """303 to a dashboard page, with an empty body (not Werkzeug's "Redirecting..." page)."""
    return Response(b"", status=303, headers={"Location": location})


def link(endpoint: str, **values: Any) -> str:
    """A dashboard URL that keeps the current tenant."""
    name = g.get("ui_tenant") or tenancy.DEFAULT
    if name != tenancy.DEFAULT:
        values.setdefault("tenant", name)
    return url_for(f"{bp.name}.{endpoint}", **values)


def page(template: str, status: int = 200, **context: Any):
    """Render a dashboard page (with the shared context: tenant, links, CSRF token)."""
    return render_template(template, **context), status, {"Content-Type": "text/html; charset=utf-8",
                                                           "Cache-Control": "no-store"}


@bp.app_template_global("ui")
def _ui_link(endpoint: str, **values: Any) -> str:
    return link(endpoint, **values)


@bp.app_template_global("asset")
def _asset(name: str) -> str:
    return url_for(f"{bp.name}.ui_asset", filename=name)


@bp.errorhandler(SandboxError)
def error_page(err: SandboxError):
    ctx = context.current()
    if ctx is not None:
        ctx.error_code = err.code or err.kind.value
    if err.kind is Kind.UNAUTHENTICATED:
        from sandbox.ui.guard import login_page

        return login_page(err.status or 401, err.message if err.field == "token" else None)
    titles = {400: "Bad request", 403: "Forbidden", 404: "Not found", 503: "Service unavailable"}
    body, status, headers = page("error.html", err.status or 400, title=titles.get(err.status or 400, "Error"),
                                 error=err)
    detail = explain.header_safe(err.detail) if err.detail else None
    if ctx is not None and detail:
        ctx.error_detail = detail
    return body, status, {**headers, **err.headers, **({explain.HEADER: detail} if detail else {})}


@bp.get("/static/<path:filename>")
def ui_asset(filename: str):
    """The vendored htmx, the stylesheet and the small clipboard script (read whole: they are
    small, and the self-check reads every answer's body)."""
    kind = ASSET_TYPES.get(Path(filename).suffix)
    if kind is None or filename not in {p.name for p in STATIC.iterdir()}:
        raise SandboxError(Kind.NOT_FOUND, f"no asset {filename!r}", field="filename")
    response = Response((STATIC / filename).read_bytes(), mimetype=kind)
    response.cache_control.public, response.cache_control.max_age = True, 3600
    return response


@bp.app_template_global("provider_keys")
def _provider_keys() -> list[str]:
    from sandbox.core.runtime import runtime

    return list(runtime().providers)
