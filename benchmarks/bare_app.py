"""The load benchmark's ceiling: a bare Flask app under waitress, set up as `refund-sandbox serve` is.

Owns the tiny app `benchmarks/load.py` starts as its own process: `POST /refund` parses a
small JSON body and answers a small JSON body; `GET /health` says it is up. It is served
by the very server `refund-sandbox serve` builds (`sandbox.app.wsgi_server`: waitress's
create_server with the same Settings, threads and limits), so the gap between this and the
sandbox is the sandbox's own work.

    python benchmarks/bare_app.py --port 18081
"""

from __future__ import annotations

import argparse
from types import SimpleNamespace

from flask import Flask, jsonify, request

from sandbox.app import run_until_stopped, wsgi_server
from sandbox.core.runtime import EXTENSION
from sandbox.settings import Settings


def create_app() -> Flask:
    app = Flask("bare")

    @app.post("/refund")
    def refund():
        body = request.get_json(force=True)
        return jsonify(meta={"success": True},
                       data={"id": body.get("id"), "order": body.get("order"),
                             "refunded": {"amount": "30.00", "currency": "USD"}})

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app


def make_server(app: Flask, settings: Settings):
    """`serve`'s own server: `sandbox.app.wsgi_server`, which reads only the settings from the
    app's runtime (given here)."""
    app.extensions[EXTENSION] = SimpleNamespace(settings=settings)
    return wsgi_server(app, host=settings.host, port=settings.port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    settings = Settings.load(host=args.host, port=args.port, threads=args.threads)
    run_until_stopped(make_server(create_app(), settings))


if __name__ == "__main__":
    main()
