"""A local fake of the Graph API's Conversions API endpoint, over real HTTP on 127.0.0.1, for
tests and demos: ``POST /{version}/{pixel_id}/events``.

It answers like the real API: ``{"events_received": N, "messages": [], "fbtrace_id": ...}`` on
success; ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` otherwise:
401 code 190 for a wrong or missing token, 400 code 100 for an invalid parameter (a request
with one bad event fails whole, e.g. subcode 2804003 for an event older than 7 days), 400 code
100 for an unknown pixel. It checks what the real API requires: at most 1,000 events, integer
``event_time`` not older than 7 days nor in the future, a known ``action_source``,
``client_user_agent`` and ``event_source_url`` for website events, hashed (64-hex) customer
information, and at least one customer information parameter.

Faults are injected with :meth:`FakeGraphServer.inject`: the next requests get the given
answers in order (rate limits with codes 4/17/32/613/80004, 500s, 400 code 100, 401 code 190),
before any check, so a faulted request never counts as received.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "ACTION_SOURCES",
    "FakeGraphServer",
    "GraphFault",
    "RecordedRequest",
    "invalid_parameter",
    "invalid_token",
    "rate_limit",
    "server_error",
]

ACTION_SOURCES = frozenset({"website", "email", "app", "phone_call", "chat", "physical_store",
                            "system_generated", "business_messaging", "other"})
HASHED = ("em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country")
MAX_EVENTS = 1000
MAX_AGE = 7 * 24 * 3600
_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/events/?$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class GraphFault:
    """One injected answer: HTTP status, Graph error code (and subcode), optional
    ``Retry-After`` seconds."""

    status: int
    code: int
    message: str
    type: str = "OAuthException"
    subcode: int | None = None
    retry_after: float | None = None


def rate_limit(code: int = 4, retry_after: float | None = None) -> GraphFault:
    """A rate-limit answer (codes 4, 17, 32, 613, 80001, 80004), HTTP 400 as Graph sends it."""
    messages = {4: "Application request limit reached", 17: "User request limit reached",
                32: "Page request limit reached", 613: "Calls to this api have exceeded the "
                "rate limit.", 80001: "There have been too many calls to this Page account.",
                80004: "There have been too many calls to this ad-account."}
    return GraphFault(400, code, messages.get(code, "rate limit reached"),
                      retry_after=retry_after)


def server_error(status: int = 500) -> GraphFault:
    """A transient server error (code 2)."""
    return GraphFault(status, 2, "An unexpected error has occurred. Please retry your "
                      "request later.")


def invalid_parameter(subcode: int | None = 2804003) -> GraphFault:
    """A 400 code 100 (default subcode 2804003: an event older than 7 days)."""
    return GraphFault(400, 100, "Invalid parameter", subcode=subcode)


def invalid_token() -> GraphFault:
    """A 401 code 190: invalid or expired access token."""
    return GraphFault(401, 190, "Invalid OAuth access token - Cannot parse access token",
                      subcode=None)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake answered: path, version, pixel, parsed body, status, whether a
    token came along (never the token itself), and the test event code."""

    path: str
    version: str
    pixel_id: str
    body: dict[str, Any]
    status: int
    had_token: bool
    test_event_code: str | None


class _Reject(Exception):
    def __init__(self, fault: GraphFault) -> None:
        self.fault = fault
        super().__init__(fault.message)


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[GraphFault] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)


class FakeGraphServer:
    """The fake Graph API. ``url`` is its base (``http://127.0.0.1:PORT``); it accepts
    ``access_token`` for ``pixel_ids``. ``clock`` gives the time events are judged by."""

    def __init__(self, *, access_token: str = "test-access-token",  # noqa: S107
                 pixel_ids: tuple[str, ...] = ("1234567890",), port: int = 0,
                 clock: Callable[[], float] = time.time) -> None:
        self.access_token = access_token
        self.pixel_ids = pixel_ids
        self.clock = clock
        self._state = _State()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read :attr:`FakeGraphServer.requests`."""

            def do_POST(self) -> None:
                """Serve ``POST /{version}/{pixel}/events``."""
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload, headers = owner._answer(
                    self.path, raw, self.headers.get("Content-Type", ""),
                    self.headers.get("Authorization", ""))
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGraphServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="fake-graph")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGraphServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------------

    def inject(self, *faults: GraphFault) -> None:
        """Answer the next ``len(faults)`` requests with these faults, in order."""
        with self._state.lock:
            self._state.faults.extend(faults)

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every event accepted so far (test events included), in arrival order."""
        with self._state.lock:
            return list(self._state.received)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far."""
        with self._state.lock:
            return list(self._state.requests)

    def reset(self) -> None:
        """Forget received events, requests and pending faults."""
        with self._state.lock:
            self._state.faults.clear()
            self._state.received.clear()
            self._state.requests.clear()

    # -- the endpoint -----------------------------------------------------------------------

    def _answer(self, target: str, raw: bytes, content_type: str,
                authorization: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body: dict[str, Any] = {}
        try:
            if "json" in content_type:
                loaded = json.loads(raw or b"{}")
                body = loaded if isinstance(loaded, dict) else {}
            elif raw:
                body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        except (ValueError, UnicodeDecodeError):
            body = {}
        token = (body.pop("access_token", None) or query.get("access_token")
                 or authorization.removeprefix("Bearer ").removeprefix("OAuth ").strip()
                 or None)
        data = body.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = None
        body["data"] = data
        match = _PATH.match(parts.path)
        version, pixel = (match.group(1), match.group(2)) if match else ("", "")
        test_code = body.get("test_event_code")
        headers: dict[str, str] = {}
        try:
            with self._state.lock:
                fault = self._state.faults.pop(0) if self._state.faults else None
            if fault is not None:
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after))
                raise _Reject(fault)
            if match is None:
                raise _Reject(GraphFault(400, 100, "Unknown path components: "
                                         f"{parts.path[:80]}"))
            if token != self.access_token:
                raise _Reject(invalid_token())
            if pixel not in self.pixel_ids:
                raise _Reject(GraphFault(400, 100, f"Unsupported post request. Object with ID "
                                         f"'{pixel[:40]}' does not exist", subcode=33))
            events = self._check(data)
        except _Reject as rejected:
            f = rejected.fault
            error: dict[str, Any] = {"message": f.message, "type": f.type, "code": f.code,
                                     "fbtrace_id": _trace()}
            if f.subcode is not None:
                error["error_subcode"] = f.subcode
            self._record(parts.path, version, pixel, body, f.status, token, test_code)
            return f.status, {"error": error}, headers
        with self._state.lock:
            self._state.received.extend(events)
        self._record(parts.path, version, pixel, body, 200, token, test_code)
        return 200, {"events_received": len(events), "messages": [],
                     "fbtrace_id": _trace()}, headers

    def _record(self, path: str, version: str, pixel: str, body: dict[str, Any], status: int,
                token: str | None, test_code: Any) -> None:
        with self._state.lock:
            self._state.requests.append(RecordedRequest(
                path=path, version=version, pixel_id=pixel, body=body, status=status,
                had_token=bool(token), test_event_code=test_code if isinstance(test_code, str)
                else None))

    def _check(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list) or not data:
            raise _Reject(GraphFault(400, 100, "The parameter data is required"))
        if len(data) > MAX_EVENTS:
            raise _Reject(GraphFault(400, 100, f"data: at most {MAX_EVENTS} events per "
                                     "request"))
        now = self.clock()
        for index, event in enumerate(data):
            self._check_event(index, event, now)
        return list(data)

    @staticmethod
    def _check_event(index: int, event: Any, now: float) -> None:
        def bad(message: str, subcode: int | None = None) -> _Reject:
            return _Reject(GraphFault(400, 100, f"Invalid parameter: data[{index}]: {message}",
                                      subcode=subcode))

        if not isinstance(event, dict):
            raise bad("not an object")
        if not isinstance(event.get("event_name"), str) or not event["event_name"]:
            raise bad("event_name is required")
        when = event.get("event_time")
        if not isinstance(when, int) or isinstance(when, bool):
            raise bad("event_time must be an integer Unix timestamp in seconds")
        if when < now - MAX_AGE:
            raise bad("event_time is more than 7 days in the past", 2804003)
        if when > now + 60:
            raise bad("event_time is in the future", 2804004)
        source = event.get("action_source")
        if source not in ACTION_SOURCES:
            raise bad("action_source is missing or unknown")
        user = event.get("user_data")
        if not isinstance(user, dict) or not user:
            raise bad("user_data needs at least one customer information parameter")
        if source == "website" and not (user.get("client_user_agent")
                                        and event.get("event_source_url")):
            raise bad("website events need client_user_agent and event_source_url")
        for name in HASHED:
            value = user.get(name)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) and _HEX64.match(v) for v in values):
                raise bad(f"user_data.{name} must be SHA-256 hashed")


def _trace() -> str:
    return "A" + secrets.token_urlsafe(16)
