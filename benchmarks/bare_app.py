"""The load benchmark's ceiling: a bare Flask app, served as `refund-sandbox serve` serves the sandbox.

Owns the tiny app `benchmarks/load.py` starts as its own process: `POST /refund` parses a
small JSON body and answers a small JSON body; `GET /health` says it is up. By default it
runs on the very server `serve` builds (`sandbox.serving.FrontServer`: granian, one forked
worker, the same threads, header timeout and connection limit), behind the same outermost
WSGI layer (`sandbox.core.edge.WireEdge`: the body in one piece), with the heap frozen once
the app is built, as `create_app` does; so the gap between this and the sandbox is the
sandbox's own work. `--server waitress` serves it on waitress with the same threads.

    python benchmarks/bare_app.py --port 18081 --threads 8 [--server waitress]
"""

from __future__ import annotations

import argparse

from flask import Flask, jsonify, request

from sandbox.core.edge import WireEdge
from sandbox.core.store import freeze_heap
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--threads", type=int, default=None, help="[serve's: REFUND_SANDBOX_THREADS or 8]")
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian")
    args = parser.parse_args()
    settings = Settings.load(host=args.host, port=args.port, threads=args.threads)
    app = create_app()
    freeze_heap()
    if args.server == "waitress":
        from waitress import serve

        serve(app, host=settings.host, port=settings.port, threads=settings.threads, ident="bare")
        return
    FrontServer(app, host=settings.host, port=settings.port, threads=settings.threads,
                header_timeout_ms=settings.header_timeout_ms).serve()


if __name__ == "__main__":
    main()
