"""Run the sandbox inside a test process: `LiveSandbox` (a waitress server on a free 127.0.0.1
port, in a thread: sandbox/serving.py says why not granian) and `SandboxHandle` (one tenant's
view of it, with helpers to seed scenarios, add faults and read the journal). The pytest plugin
builds its fixtures from these.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

from sandbox.app import create_app
from sandbox.serving import thread_server
from sandbox.settings import Settings

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy


class LiveSandbox:
    """The whole sandbox served on 127.0.0.1 from a background thread; `stop()` ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        """Serve on `host`:`port` (0: a free port); `url` is how this process reaches it.

        :raise ConfigError: the port is busy or the host is not an address of this machine.
        """
        settings.setdefault("log_requests", False)
        settings.setdefault("threads", 8)  # waitress in a thread: a test's requests may overlap
        loaded = Settings.load(host=host, port=port, **settings)
        self.app = create_app(loaded)
        self.server = thread_server(self.app, host=host, port=port, threads=loaded.threads,
                                    max_body_bytes=loaded.max_body_bytes)
        self.host, self.port = host, int(self.server.effective_port)
        reach = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else host
        self.url = f"http://{reach}:{self.port}"
        self._thread = threading.Thread(target=self.server.run, name="refund-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the connections clients kept alive and stop listening (waitress's public
        `close`), from inside the server's loop through its trigger, so no socket is closed
        under a running select(); the loop ends when nothing is left. Then the worker threads
        and the sandbox's own."""
        def close_everything() -> None:
            for channel in list(self.server.active_channels.values()):
                channel.close()
            self.server.close()

        if self._thread.is_alive():
            self.server.trigger.pull_trigger(close_everything)
            self._thread.join(10)
        self.server.task_dispatcher.shutdown()
        self.app.extensions["refund_sandbox"].close()

    def handle(self, tenant: str | None = None) -> SandboxHandle:
        return SandboxHandle(self.url, tenant or f"test-{uuid.uuid4().hex[:12]}")


class SandboxHandle:
    """One tenant of a running sandbox: base URLs, headers and control-plane helpers."""

    def __init__(self, url: str, tenant: str) -> None:
        self.url = url
        self.tenant = tenant
        self.headers = {"X-Sandbox-Tenant": tenant}

    def base_url(self, provider: str) -> str:
        """Where a client of `provider` points, e.g. http://127.0.0.1:PORT/fire."""
        return f"{self.url}/{provider}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A control-plane (or any) request in this tenant: (status, JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={**self.headers, "Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def _ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        if status >= 400:
            raise AssertionError(f"{method} {path} -> {status}: {answer}")
        return answer

    def seed(self, scenario: str, count: int = 1, seed: int | None = None,
             overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Seed a scenario in this tenant; returns its orders (order_ref, headers, order...)."""
        body: dict[str, Any] = {"count": count, "overrides": overrides or {}}
        if seed is not None:
            body["seed"] = seed
        return self._ok("POST", f"/_sandbox/scenarios/{scenario}", body)["orders"]

    def fault(self, **rule: Any) -> dict[str, Any]:
        return self._ok("POST", "/_sandbox/faults", rule)

    def clear_faults(self) -> int:
        return self._ok("DELETE", "/_sandbox/faults")["deleted"]

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self._ok("GET", f"/_sandbox/requests?{query}")["requests"]

    def notifications(self, provider: str | None = None) -> list[dict[str, Any]]:
        return self._ok("GET", "/_sandbox/notifications" + (f"?provider={provider}" if provider else ""))[
            "notifications"]

    def order(self, provider: str, order_ref: str) -> dict[str, Any]:
        return self._ok("GET", f"/_sandbox/{provider}/orders/{order_ref}")["order"]

    def register_credential(self, provider: str, credential: str, scopes: list[str] | None = None) -> None:
        """Route `credential` to this tenant, so a client that cannot send X-Sandbox-Tenant lands here."""
        self._ok("POST", "/_sandbox/credentials", {"provider": provider, "credential": credential,
                                                   "tenant": self.tenant, "scopes": scopes})

    def reset(self) -> None:
        self._ok("POST", "/_sandbox/reset")
