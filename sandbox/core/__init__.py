"""Shared machinery for every provider; imports nothing from `sandbox.providers`.

`install(app)` is the one place to read the request pipeline, in order.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from sandbox.core import pipeline
from sandbox.core.errors import SandboxError


def install(app: Flask) -> None:
    """Register the pipeline: before-request hooks, error handlers, after-request hooks."""
    app.url_map.merge_slashes = False  # "//" is an unknown route, not Werkzeug's own 308 redirect
    app.before_request(pipeline.start_request)          # 1. timer, trace id, owning provider
    # 2. the view's @operation: auth -> tenant -> scope -> headers -> body (sandbox.core.provider)
    app.register_error_handler(SandboxError, pipeline.handle_sandbox_error)   # 3. errors, natively
    app.register_error_handler(HTTPException, pipeline.handle_http_exception)
    app.register_error_handler(Exception, pipeline.handle_unexpected)
    app.after_request(pipeline.finish_request)          # 4. self-check, X-Sandbox-* headers, log line
