"""The sandbox HTTP server: a real socket on 127.0.0.1 serving the population's platform APIs.

The server owns the wire (HTTP/1.1 keep-alive, one thread per connection), request statistics
and fault injection; platform handlers (:mod:`.woo_api`, :mod:`.presta_api`) only turn an
:class:`~.wire.HttpRequest` into an :class:`~.wire.HttpResponse`. A fault is decided before the
request reaches a handler, so a faulted request never changes the shop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .faults import (
    ERROR_HTML,
    PHP_NOTICE,
    RATE_LIMIT_HTML,
    FaultDecision,
    FaultKind,
    FaultPlan,
    Faults,
    PayloadRewrite,
)
from .population import Population
from .presta_api import PrestaApi, PrestaCredentials
from .wire import HttpRequest, HttpResponse, PlatformHandler
from .woo_api import HTML_TYPE, WooApi
from .woo_auth import WooCredentials


@dataclass(frozen=True)
class Endpoint:
    """One platform API a sandbox serves: the platform, the shop's address, a name for its
    configuration table, a short title with the API's address, and its read/write and
    read-only keys (``secret`` and ``ro_secret`` empty for PrestaShop, whose Webservice key is
    all there is)."""

    platform: str
    url: str
    name: str
    title: str
    key: str
    secret: str
    ro_key: str
    ro_secret: str


class ServerStats:
    """Thread-safe request counters: total, by path, by status and by injected fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()
        self._total = 0

    def record(self, path: str, status: int, fault: FaultKind) -> None:
        """Count one answered (or dropped) request."""
        with self._lock:
            self._total += 1
            self._by_path[path] += 1
            self._by_status[status] += 1
            if fault is not FaultKind.NONE:
                self._by_fault[fault.value] += 1

    @property
    def total(self) -> int:
        """Requests seen so far."""
        with self._lock:
            return self._total

    def by_path(self) -> dict[str, int]:
        """Requests per URL path (query string excluded; ``rest_route`` form by route)."""
        with self._lock:
            return dict(self._by_path)

    def by_status(self) -> dict[int, int]:
        """Requests per HTTP status (0 for connections dropped without an answer)."""
        with self._lock:
            return dict(self._by_status)

    def by_fault(self) -> dict[str, int]:
        """Injected faults per kind."""
        with self._lock:
            return dict(self._by_fault)

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._by_path.clear()
            self._by_status.clear()
            self._by_fault.clear()
            self._total = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and benchmarks read :attr:`SandboxServer.stats` instead."""

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = HttpRequest(
            method=self.command, path=parts.path or "/", query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()}, body=body,
            base_url=owner.url,
        )
        owner.serve(self, request)

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._serve()

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._serve()

    def do_OPTIONS(self) -> None:
        """Serve an OPTIONS."""
        self._serve()

    def do_HEAD(self) -> None:
        """Serve a HEAD."""
        self._serve()

    def version_string(self) -> str:
        """The ``Server`` header."""
        return "Apache/2.4.62 (Debian)"

    def send_full(self, response: HttpResponse, *, truncate: bool = False,
                  head: bool = False) -> None:
        """Write ``response``; with ``truncate`` send half the body and drop the connection."""
        body = response.body
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.wfile.flush()
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without answering (a reset)."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: SandboxServer) -> None:
        self.owner = owner
        self.one_connection_at_a_time = False
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection; a pre-forked worker serves one connection at a time."""
        if self.one_connection_at_a_time:
            socketserver.TCPServer.process_request(self, request, client_address)
        else:
            super().process_request(request, client_address)


class SandboxServer:
    """A deterministic shop on ``http://127.0.0.1:<port>`` speaking real platform APIs.

    ``platforms`` names the APIs to serve (``"woocommerce"``, ``"prestashop"``: the PrestaShop
    Webservice under ``/api/``, keys in :attr:`presta_credentials`). ``faults`` injects transport
    faults and malformed records. ``rewrite`` (also settable as :attr:`rewrite` while serving)
    rewrites the shop's answer to every API request that reached it: hostile payloads. Use as a
    context manager or call :meth:`start`/:meth:`stop`.
    """

    def __init__(self, population: Population, *, port: int = 0, faults: Faults | None = None,
                 pretty_permalinks: bool = True,
                 platforms: Sequence[str] = ("woocommerce",),
                 woo_credentials: WooCredentials | None = None, workers: int = 1,
                 presta_credentials: PrestaCredentials | None = None,
                 rewrite: PayloadRewrite | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._children: list[int] = []
        self.population = population
        self.faults = faults or Faults()
        self.rewrite = rewrite
        self.stats = ServerStats()
        self._port = port
        self._plan = FaultPlan(self.faults)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self.woo_credentials = woo_credentials or WooCredentials.from_seed(population.seed)
        self.presta_credentials = presta_credentials or PrestaCredentials.from_seed(
            population.seed)
        self.presta: PrestaApi | None = None
        self.handlers: list[PlatformHandler] = []
        for name in platforms:
            if name == "woocommerce":
                self.handlers.append(WooApi(population, self.woo_credentials,
                                            pretty_permalinks=pretty_permalinks,
                                            faults=self.faults))
            elif name == "prestashop":
                self.presta = PrestaApi(population, self.presta_credentials, faults=self.faults)
                self.handlers.append(self.presta)
            else:
                raise ValueError(f"unknown platform {name!r}")

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> SandboxServer:
        """Bind a port on 127.0.0.1 and serve in a background thread; returns self.

        With ``workers`` > 1 the server pre-forks that many processes instead, each serving one
        connection at a time on the shared socket, like PHP's built-in server with
        ``PHP_CLI_SERVER_WORKERS``: for benchmarks that need server time to scale with
        concurrency. Each worker has its own copy of the population, so writes made through one
        worker are not seen by the others, and :attr:`stats` stays empty: read-only use only.
        """
        if self._httpd is not None:
            return self
        self._httpd = _HttpServer(("127.0.0.1", self._port), self)
        if self.workers > 1:
            self._fork_workers(self._httpd)
            return self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="journeybridge-sandbox", daemon=True)
        self._thread.start()
        return self

    def _fork_workers(self, httpd: _HttpServer) -> None:
        for _ in range(self.workers):
            pid = os.fork()
            if pid == 0:  # a worker: one connection at a time, until told to stop
                signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
                httpd.one_connection_at_a_time = True
                try:
                    httpd.serve_forever(poll_interval=0.05)
                finally:
                    os._exit(0)
            self._children.append(pid)

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._httpd is None:
            return
        if self._children:
            for pid in self._children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            for pid in self._children:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            self._children = []
            self._httpd.server_close()
            self._httpd = None
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only meaningful once started)."""
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The site's home URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def endpoints(self) -> list[Endpoint]:
        """Every platform API served, in the order given (start the server first)."""
        found = []
        for handler in self.handlers:
            if isinstance(handler, WooApi):
                c = self.woo_credentials
                found.append(Endpoint("woocommerce", self.url, "sandbox_woo",
                                      f"WooCommerce REST API: {self.url}"
                                      "/wp-json/wc/v3/", c.key, c.secret, c.ro_key, c.ro_secret))
            elif isinstance(handler, PrestaApi):
                p = self.presta_credentials
                found.append(Endpoint("prestashop", self.url, "sandbox_presta",
                                      f"PrestaShop Webservice: {self.url}/api/",
                                      p.key, "", p.ro_key, ""))
        return found

    # ---------------------------------------------------------------- serving
    def serve(self, handler: _Handler, request: HttpRequest) -> None:
        """Answer one request on ``handler``'s connection (faults first, then the platforms)."""
        path = request.path
        is_api = path.startswith(("/wp-json", "/api")) or "rest_route=" in request.query
        decision = self._plan.next() if is_api else FaultDecision(FaultKind.NONE)
        if is_api and self.faults.page_latency_ms:
            time.sleep(self.faults.page_latency_ms / 1000)
        head = request.method == "HEAD"
        if decision.kind is FaultKind.RESET:
            self.stats.record(path, 0, decision.kind)
            handler.drop()
            return
        fault_response = self._fault_response(decision, request)
        if fault_response is not None:
            self.stats.record(path, fault_response.status, decision.kind)
            handler.send_full(fault_response, head=head)
            return
        response = None
        for platform in self.handlers:
            response = platform.handle(request)
            if response is not None:
                break
        if response is None:
            response = HttpResponse(404, [("Content-Type", HTML_TYPE)],
                                    b"<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>")
        rewrite = self.rewrite
        if is_api and rewrite is not None:
            response = rewrite(request, response)
        if decision.php_notice and response.content_type().startswith("application/json"):
            response.body = PHP_NOTICE.encode() + response.body
        self.stats.record(path, response.status, decision.kind)
        handler.send_full(response, truncate=decision.kind is FaultKind.TRUNCATED_BODY,
                          head=head)

    def _fault_response(self, decision: FaultDecision, request: HttpRequest
                        ) -> HttpResponse | None:
        if decision.kind is FaultKind.RATE_LIMIT:
            return HttpResponse(429, [("Content-Type", HTML_TYPE), ("Retry-After", "1")],
                                RATE_LIMIT_HTML.encode())
        if decision.kind is FaultKind.SERVER_ERROR:
            headers = [("Content-Type", HTML_TYPE)]
            if decision.status == 503:
                headers.append(("Retry-After", "1"))
            return HttpResponse(decision.status, headers, ERROR_HTML[decision.status].encode())
        if decision.kind is FaultKind.HTML_INSTEAD_OF_JSON:
            page = ("<!DOCTYPE html>\n<html lang=\"en-US\"><head><meta charset=\"UTF-8\" />"
                    "<title>Maintenance</title></head><body><h1>Briefly unavailable for "
                    "scheduled maintenance. Check back in a minute.</h1></body></html>\n")
            return HttpResponse(200, [("Content-Type", HTML_TYPE)], page.encode())
        return None
