"""WireEdge: the outermost WSGI layer, what the app hands the server.

Two jobs, both about the connection rather than the request:

- the body leaves in one piece: every sandbox answer is small, so it is joined into a
  one-item list. granian writes a list with the head in one send; an iterator is streamed
  after the head, a second small write that Nagle's algorithm and the client's delayed ACK
  hold for ~40 ms (measured: bare Flask on granian, 1 thread, 611 -> 5,460 req/s);
- an injected fault that drops the connection (`drop_connection`, or `timeout_after_commit`
  after `hold_ms`) closes it without writing a byte, in the way each server understands:
  under waitress (the in-process test server) by raising ClientDisconnected; under granian
  (`serve`) by answering a head hyper refuses to encode (an invalid Content-Length), which
  makes hyper close the connection unanswered: granian has no other way to drop one, and the
  wire tests in tests/test_serving.py prove this one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sandbox.core.faults import HOLD, unanswered

try:  # the exception waitress turns into "close the socket, send nothing"
    from waitress.channel import ClientDisconnected as _Disconnect
except ImportError:  # pragma: no cover - waitress is a dependency
    _Disconnect = ConnectionAbortedError


def _nothing() -> Iterator[bytes]:
    """An empty body granian streams (a list would be sent whole, after a head hyper accepts)."""
    yield from ()


class WireEdge:
    """WSGI middleware: one-piece bodies, and connections closed unanswered when a fault asks."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Any) -> Any:
        held: list[tuple] = []

        def defer(status: str, headers: list, exc_info: Any = None) -> Any:
            held.append((status, headers, exc_info))
            return lambda data: None

        body = self.app(environ, defer)
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        if unanswered(environ):
            if environ.get(HOLD):
                time.sleep(environ[HOLD] / 1000)
            if environ.get("SERVER_SOFTWARE") == "Granian":
                start_response("500 Dropped", [("Content-Length", "dropped")])
                return _nothing()
            raise _Disconnect("closed without answering: injected fault")
        status, headers, exc_info = held[0]
        start_response(status, headers, exc_info)
        return [data]
