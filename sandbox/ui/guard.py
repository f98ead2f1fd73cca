"""Who may use the dashboard: the control-token login, the session cookie and CSRF.

Without `--control-token` the dashboard is open, like the control plane. With one, a
browser gives the token once on the login page and gets an HTTP-only, SameSite=Strict
session cookie signed with a key derived from the token (the cookie never holds the token
itself); a client may instead send the control plane's `X-Sandbox-Control-Token` header.
Every state-changing form carries a CSRF token tied to the session (`csrf_token` field, or
the `X-CSRF-Token` header for htmx); a POST without a valid one is a 403. Requests that
authenticate with the header need no CSRF token: a browser never sends it cross-site.
"""

from __future__ import annotations

import hmac
import secrets

from flask import after_this_request, g, request

from sandbox.control.routes import TOKEN_HEADER
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.runtime import runtime
from sandbox.ui.blueprint import bp, link, page, see_other, tenant, ui_state

COOKIE = "sandbox_ui_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
OPEN = frozenset({"ui_login_form", "ui_login", "ui_asset"})


def _session_from_cookie() -> str | None:
    """The session id of a valid cookie, else None."""
    sid, _, mac = request.cookies.get(COOKIE, "").partition(".")
    if sid and hmac.compare_digest(mac, ui_state().sign("session", sid)):
        return sid
    return None


def _header_ok(expected: str) -> bool:
    given = request.headers.get(TOKEN_HEADER)
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _start_session() -> str:
    """A new session id; its cookie is set on this response."""
    sid = secrets.token_urlsafe(18)
    cookie = f"{sid}.{ui_state().sign('session', sid)}"

    @after_this_request
    def set_cookie(response):
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", secure=request.is_secure,
                            path="/_sandbox/ui")
        return response

    return sid


def csrf_token() -> str:
    sid = g.get("ui_session")
    return ui_state().sign("csrf", sid) if sid else ""


@bp.app_template_global("csrf_field")
def _csrf_field() -> str:
    from markupsafe import Markup, escape

    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


@bp.app_template_global("csrf_value")
def _csrf_value() -> str:
    return csrf_token()


@bp.app_template_global("login_required")
def _login_required() -> bool:
    return bool(runtime().settings.control_token)


@bp.before_request
def guard() -> None:
    """Tenant, then who is asking, then (for POSTs) the CSRF token.

    :raise 400: an invalid tenant.  :raise 401: token mode, no valid session or header.
    :raise 403: a POST without the session's CSRF token.
    """
    tenant()
    expected = runtime().settings.control_token
    by_header = bool(expected) and _header_ok(expected)
    g.ui_session = _session_from_cookie()
    if request.endpoint and request.endpoint.rsplit(".", 1)[-1] in OPEN:
        return
    if expected and not by_header and g.ui_session is None:
        raise SandboxError(Kind.UNAUTHENTICATED, "give the control token to open the dashboard")
    if request.method == "POST" and not by_header:
        given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
        if not (g.ui_session and hmac.compare_digest(given, csrf_token())):
            raise SandboxError(Kind.FORBIDDEN, "the form's CSRF token is missing or stale: reload the page and "
                               "send it again", field=CSRF_FIELD)
    if g.ui_session is None:
        g.ui_session = _start_session()


def _next_url() -> str:
    """Where to go after logging in: a dashboard path only (never another site)."""
    target = request.values.get("next", "")
    if target.startswith("/_sandbox/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return link("ui_home")


def login_page(status: int, error: str | None = None):
    target = request.full_path if request.method == "GET" and request.endpoint != f"{bp.name}.ui_login_form" \
        else _next_url()
    return page("login.html", status, next=target.rstrip("?"), error=error, title="Log in")


@bp.get("/login")
def ui_login_form():
    return login_page(200)


@bp.post("/login")
def ui_login():
    """Check the control token once; a session cookie then stands for it.

    :raise 401: the token is wrong (the login page again, with the error).
    """
    expected = runtime().settings.control_token
    if expected:
        given = request.form.get("token", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise SandboxError(Kind.UNAUTHENTICATED, "that is not the control token", field="token")
        g.ui_session = _start_session()
    return see_other(_next_url())


@bp.post("/logout")
def ui_logout():
    response = see_other(link("ui_login_form") if runtime().settings.control_token else link("ui_home"))
    response.delete_cookie(COOKIE, path="/_sandbox/ui")
    return response
