"""The servers that put the app on a socket: granian for `serve`, waitress in a thread for tests.

`FrontServer` is `refund-sandbox serve`'s server: granian (HTTP in Rust, the app stays Flask
on WSGI), one worker process forked from a small main process after the app is built, so a
start-up error is one line before anything forks and the worker inherits a frozen heap. The
main process binds the socket itself (port 0 resolves once, bind errors read as ConfigError)
and hands it to the worker. Connections live in Rust: idle keep-alive clients and clients that
stall mid-headers cost a file descriptor each, no Python thread, and both are cut off after
`header_timeout_ms`; only requests whose headers arrived reach the `threads` WSGI threads.
granian admits at most `backpressure` open connections (a permit per connection, not per
request: its default, 1,024, locked a new client out behind 1,000 idle and 1,000 stalled
ones), so it is set from the open-files limit, which `serve` first lifts to the hard limit.

SIGTERM, Ctrl-C or SIGHUP: the main process stops the worker, which stops taking requests,
then runs the cleanup (webhook deliverer, tenant files) and exits; `serve` exits 0. The worker
has a process group of its own, so a terminal's Ctrl-C reaches the main process only (a worker
that exits by itself is a failure: `serve` exits 1). If the main process is killed outright,
the kernel kills the worker too (PR_SET_PDEATHSIG), so nothing keeps the port or the data dir
behind its back.

`thread_server` is waitress in the calling process (LiveSandbox and the pytest plugin): a
test shares the app object with the server, and forking a test process that runs threads is
unsafe, so the in-process server stays a thread server.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import multiprocessing
import os
import resource
import signal
import socket
from collections.abc import Callable
from typing import Any

from sandbox.settings import ConfigError

log = logging.getLogger("sandbox")

#: granian's own messages (worker started, stopped) at WARNING and above, on stderr like ours.
GRANIAN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"generic": {"()": "logging.Formatter",
                               "fmt": "%(asctime)s %(levelname)s granian %(message)s"}},
    "handlers": {"console": {"formatter": "generic", "class": "logging.StreamHandler",
                             "stream": "ext://sys.stderr"}},
    "loggers": {"_granian": {"handlers": ["console"], "level": "WARNING", "propagate": False},
                "granian.access": {"handlers": [], "level": "CRITICAL", "propagate": False}},
}


def bind_failure(exc: OSError, host: str, port: int) -> str:
    """One line for a socket that cannot be bound: what happened and the way out."""
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use; stop what is listening there, or choose another "
                "port with --port (or REFUND_SANDBOX_PORT)")
    if exc.errno == errno.EACCES:
        return (f"no permission to listen on port {port} on {host} (ports below 1024 need privileges); "
                "choose another port with --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"cannot listen on {host}:{port} ({exc.strerror or exc}); give an address of this machine "
                "with --host, e.g. 127.0.0.1 or 0.0.0.0")
    return f"cannot listen on {host}:{port} ({exc.strerror or exc}); check --host and --port"


def _unknown_host(host: str, port: int) -> str:
    return (f"cannot listen on {host}:{port}: unknown host or invalid port; give an address of this machine "
            "with --host (e.g. 127.0.0.1 or 0.0.0.0) and a port 1-65535 with --port")


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6, whichever the host is).

    :raise ConfigError: the address is busy, not this machine's, or not an address at all.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                              flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError):
        raise ConfigError(_unknown_host(host, port)) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(bind_failure(exc, host, port)) from None
    sock.set_inheritable(True)
    return sock


#: A worker that has not stopped this long after SIGTERM is killed (its commits are already
#: applied, and fsynced with --data-dir; only the webhook deliverer's queue is lost).
STOP_TIMEOUT_S = 10

#: Descriptors kept for everything but client connections (listener, tenant files, webhooks, logs).
RESERVED_FILES = 256


#: The open-files limit asked for where the hard limit is "unlimited" (which setrlimit refuses).
MAX_OPEN_FILES = 65_536


def raise_open_files_limit() -> int:
    """Lift this process's soft limit on open files to the hard one (each client connection
    is a descriptor; many systems default to 1,024). Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else hard  # macOS: unlimited is refused
    if soft == resource.RLIM_INFINITY or soft >= target:
        return target
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    except (ValueError, OSError):
        return soft


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class FrontServer:
    """`serve`'s server: granian's WSGI worker process (or `workers` of them, each a copy of
    the app forked after it was built: only with a shared store) in front of one Flask app."""

    def __init__(self, app: Any, *, host: str, port: int, threads: int, header_timeout_ms: int,
                 workers: int = 1, backlog: int = 1024) -> None:
        """Bind host:port now (port 0 picks a free one: see `port`).

        :raise ConfigError: the socket cannot be bound.
        """
        self.app = app
        self.host = host
        self.threads = threads
        self.workers = workers
        self.header_timeout_ms = header_timeout_ms
        self.backlog = backlog
        self.max_connections = max(64, raise_open_files_limit() - RESERVED_FILES)
        self.sock = listen(host, port, backlog)
        self.port: int = self.sock.getsockname()[1]

    def serve(self, on_start: Callable[[], None] = lambda: None, cleanup: Callable[[], None] = lambda: None) -> None:
        """Serve until SIGTERM or Ctrl-C. `on_start` runs in the main process once the socket
        is handed over; `cleanup` runs in the worker after its last answer."""
        from granian.constants import HTTPModes, Interfaces
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server.mp import MPServer

        class _Granian(MPServer):
            def signal_handler_reload(inner, *args: Any) -> None:
                # SIGHUP (a closed terminal) stops the sandbox: granian would fork a fresh worker
                # from the main process, whose app never served, losing every tenant in memory
                inner.signal_handler_interrupt()

            def _init_shared_socket(inner) -> None:  # our socket, already bound, instead of granian's own
                from granian._granian import SocketHolder
                from granian.net import SocketSpec

                if self.workers > 1:
                    # one listener per worker on the same port (SO_REUSEPORT, granian's own way): the
                    # kernel spreads connections evenly; on one shared listener a keep-alive client
                    # stays with whichever worker accepted it, and a burst of connections often all
                    # landed on one worker (2 workers measured 1.01x one)
                    address = self.sock.getsockname()[0]
                    self.sock.close()
                    inner._ssp, inner._shd, inner._sso = SocketSpec(address, self.port, self.backlog), None, None
                    return
                inner._ssp = None
                try:  # Linux and FreeBSD take the backlog too
                    inner._shd = SocketHolder(self.sock.fileno(), False, self.backlog)
                except TypeError:
                    inner._shd = SocketHolder(self.sock.fileno(), False)
                inner._sfd = self.sock.fileno()
                inner._sso = self.sock

        def worker(*args: Any) -> None:
            _die_with_parent()
            os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the main process only, which stops this one
            try:
                MPServer._spawn_wsgi_worker(*args)
            finally:
                cleanup()

        if multiprocessing.get_start_method(allow_none=True) not in (None, "fork"):
            multiprocessing.set_start_method("fork", force=True)  # the worker inherits the built app
        server = _Granian(
            "sandbox.app:create_app", address=self.host, port=self.port, interface=Interfaces.WSGI,
            workers=self.workers, blocking_threads=self.threads, backlog=self.backlog,
            backpressure=self.max_connections, http=HTTPModes.http1, websockets=False,
            http1_settings=HTTP1Settings(header_read_timeout=self.header_timeout_ms),
            log_level=LogLevels.warning, log_dictconfig=GRANIAN_LOGGING, log_access=False,
            workers_kill_timeout=STOP_TIMEOUT_S)
        server.on_startup(on_start)
        server.serve(spawn_target=worker, target_loader=lambda target: self.app)


def thread_server(app: Any, *, host: str, port: int, threads: int, max_body_bytes: int) -> Any:
    """The app under waitress in this process (LiveSandbox, the pytest plugin).

    Bodies over the sandbox's limit are refused by the app, in the owner's format (413).
    waitress itself refuses only bodies over 16 times that, before buffering them, with its
    own plain-text 413, so a hostile upload can neither fill the disk nor reach the app.

    :raise ConfigError: the socket cannot be bound.
    """
    from waitress import create_server

    try:
        return create_server(app, host=host, port=port, threads=threads, ident="refund-sandbox",
                             max_request_body_size=16 * max_body_bytes)
    except OSError as exc:
        raise ConfigError(bind_failure(exc, host, port)) from None
    except ValueError:  # waitress: a host name that does not resolve, or a port out of range
        raise ConfigError(_unknown_host(host, port)) from None
