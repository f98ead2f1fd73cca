"""The load benchmark's ceiling: a bare Flask app on granian, set up as `refund-sandbox serve` is.

Owns the tiny app `benchmarks/load.py` starts as its own process: `POST /refund` parses a
small JSON body and answers a small JSON body; `GET /health` says it is up. It is served
by the very server `refund-sandbox serve` builds (`sandbox.serving.FrontServer` with the same
Settings: threads, header timeout) and behind the same outermost WSGI layer
(`sandbox.core.edge.WireEdge`: the body in one piece), so the gap between this and the sandbox
is the sandbox's own work.

    python benchmarks/bare_app.py --port 18081
"""

from __future__ import annotations

import argparse

from flask import Flask, jsonify, request

from sandbox.core.edge import WireEdge
from sandbox.serving import FrontServer
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

    app.wsgi_app = WireEdge(app.wsgi_app)  # type: ignore[method-assign]
    return app


def make_server(app: Flask, settings: Settings) -> FrontServer:
    """`serve`'s own server, with `serve`'s settings."""
    return FrontServer(app, host=settings.host, port=settings.port, threads=settings.threads,
                       header_timeout_ms=settings.header_timeout_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    settings = Settings.load(host=args.host, port=args.port, threads=args.threads)
    make_server(create_app(), settings).serve()


if __name__ == "__main__":
    main()
