"""Outbound webhook delivery: one background thread that POSTs JSON notifications and retries failures.

`Deliverer` owns the queue of pending deliveries (a heap ordered by due time), the single daemon
worker thread that drains it, and the retry policy (exponential backoff up to `max_attempts`); callers
hand it a URL, a payload and an `on_attempt` callback, and learn the outcome of every attempt only
through that callback, never by waiting. The payload is encoded to JSON when submitted (so an
unserialisable payload raises `TypeError` in the caller and later changes to the dict are not seen);
redirects are not followed (a 3xx is a failed attempt) and proxy environment variables are ignored.
After `stop()` the deliverer is finished: a further `submit` raises `RuntimeError`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.core.clock import isoformat_ms

log = logging.getLogger("sandbox.webhooks")

SCHEMES = frozenset({"http", "https"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turn every redirect into an HTTPError carrying the 3xx status."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass
class _Job:
    url: str
    body: bytes
    on_attempt: Callable[[dict], None]
    attempt: int = 0  # attempts already made


class Deliverer:
    """Delivers notifications by HTTP POST from one background thread, with retries; never blocks callers."""

    def __init__(self, max_attempts: int = 4, backoff_seconds: float = 0.2, timeout_seconds: float = 5.0) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if backoff_seconds < 0 or timeout_seconds <= 0:
            raise ValueError("backoff_seconds must be >= 0 and timeout_seconds > 0")
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, url: str, payload: dict, on_attempt: Callable[[dict], None]) -> None:
        """Queue `payload` for POSTing as JSON to `url`; returns at once. Starts the worker thread on first use."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            raise ValueError(f"webhook URL must be an absolute http or https URL: {url!r}")
        job = _Job(url=url, body=json.dumps(payload).encode("utf-8"), on_attempt=on_attempt)
        with self._cond:
            if self._stopped:
                raise RuntimeError("Deliverer is stopped")
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (for tests and shutdown); True if idle in time."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._heap and self._in_flight == 0, timeout)

    def stop(self) -> None:
        """Stop the worker thread (pending deliveries are dropped)."""
        with self._cond:
            self._stopped = True
            self._heap.clear()
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            # An attempt already on the wire finishes (bounded by the request timeout) before the thread exits.
            thread.join(self.timeout_seconds + 1.0)

    # -- worker -----------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        break
                    self._cond.wait(delay)
                _, _, job = heapq.heappop(self._heap)
                self._in_flight += 1
            retry_at = None
            try:
                retry_at = self._attempt(job)
            except Exception:  # a bug here must not kill the worker; the job is abandoned
                log.exception("webhook delivery to %s failed unexpectedly; dropping it", job.url)
            finally:
                with self._cond:
                    if retry_at is not None and not self._stopped:
                        heapq.heappush(self._heap, (retry_at, next(self._seq), job))
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, job: _Job) -> float | None:
        """Make one attempt and report it; return when to retry, or None when the job is finished."""
        job.attempt += 1
        n = job.attempt
        at = isoformat_ms(datetime.now(UTC))
        status, error = self._post(job.url, job.body, n)
        delivered = status is not None and 200 <= status < 300
        final = delivered or n >= self.max_attempts
        if not delivered:
            log.log(logging.WARNING if final else logging.INFO, "webhook attempt %d/%d to %s failed: %s",
                    n, self.max_attempts, job.url, error or f"HTTP {status}")
        record = {"attempt": n, "at": at, "status": status, "error": error, "delivered": delivered, "final": final}
        try:
            job.on_attempt(record)
        except Exception:
            log.exception("on_attempt callback raised for webhook attempt %d to %s", n, job.url)
        if final:
            return None
        return time.monotonic() + self.backoff_seconds * 2 ** (n - 1)

    def _post(self, url: str, body: bytes, attempt: int) -> tuple[int | None, str | None]:
        """POST once; (2xx status, None) when delivered, else (status or None when nothing answered, message)."""
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Sandbox-Attempt": str(attempt)})
        try:
            with _OPENER.open(request, timeout=self.timeout_seconds) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, f"HTTP {exc.code}"
        except urllib.error.URLError as exc:
            reason = exc.reason
            return None, f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
        except Exception as exc:  # timeouts while reading, resets, malformed responses
            return None, f"{type(exc).__name__}: {exc}"
        return status, None if 200 <= status < 300 else f"HTTP {status}"
