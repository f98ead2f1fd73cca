"""The load benchmark's ceiling: a bare Flask app, served as `refund-sandbox serve` serves the sandbox.

Owns the tiny app `benchmarks/load.py` starts as its own process: `POST /refund` parses a
small JSON body and answers a small JSON body; `GET /health` says it is up. load.py runs it
on granian with `serve`'s settings (one worker process, the same blocking threads):

    granian --interface wsgi --workers 1 --blocking-threads 8 --port 18081 --no-ws benchmarks.bare_app:app

or, with `load.py --server waitress`, on waitress with the same threads:

    python benchmarks/bare_app.py --port 18081 --threads 8

The heap is frozen for the garbage collector once the app is built, as `serve` does, so
the gap between this and the sandbox is the sandbox's own work.
"""

from __future__ import annotations

import argparse
import gc

from flask import Flask, jsonify, request


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


app = create_app()
gc.freeze()


def main() -> None:
    from waitress import serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="bare")


if __name__ == "__main__":
    main()
