"""Fault injection for the sandbox server: what hosts, proxies and broken PHP do to API calls.

A :class:`Faults` value describes which faults to inject; a :class:`FaultPlan` draws them, one
decision per request, from its own seeded generator so a run is reproducible. A request that is
answered with a fault never reaches the shop: it changes no state.

A :data:`PayloadRewrite` is the payload-injection hook: the server hands it each API request
with the shop's real answer, after the shop has handled it (so writes still happen), and sends
whatever it returns: hostile records, headers or bodies, one request at a time.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from .wire import HttpRequest, HttpResponse

PayloadRewrite = Callable[[HttpRequest, HttpResponse], HttpResponse]
"""Turns the shop's answer to one API request into the answer to send (see the module doc)."""


class FaultKind(str, Enum):
    """What happened to one request instead of (or on top of) a normal answer."""

    NONE = "none"
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    HTML_INSTEAD_OF_JSON = "html_instead_of_json"
    TRUNCATED_BODY = "truncated_body"
    RESET = "reset"


@dataclass(frozen=True)
class Faults:
    """Faults to inject, all off by default.

    * ``rate_limit_every``: every Nth API request is answered 429 with ``Retry-After: 1`` and
      an HTML body (0 = never).
    * ``error_5xx_rate``: share of requests answered 500/502/503/504 with an HTML body (503 with
      ``Retry-After``).
    * ``page_latency_ms``: server time added to every API request (sleeps in the request's own
      thread, so other requests are not held up).
    * ``html_instead_of_json_rate``: share answered 200 ``text/html`` (a WordPress page).
    * ``truncated_body_rate``: share whose body is cut in half while ``Content-Length`` still
      announces the full length; the connection is then closed.
    * ``reset_rate``: share whose connection is closed without any response.
    * ``php_notice_rate``: share of JSON answers prefixed with a PHP notice in HTML.
    * ``malformed_order_ids`` / ``malformed_customer_ids``: these records are rendered broken
      (orders: ``total`` is ``"abc"``; customers: no ``id`` field).
    * ``seed``: seeds the draws.
    """

    rate_limit_every: int = 0
    error_5xx_rate: float = 0.0
    page_latency_ms: int = 0
    html_instead_of_json_rate: float = 0.0
    truncated_body_rate: float = 0.0
    reset_rate: float = 0.0
    php_notice_rate: float = 0.0
    malformed_order_ids: frozenset[int] = field(default_factory=frozenset)
    malformed_customer_ids: frozenset[int] = field(default_factory=frozenset)
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.error_5xx_rate, self.html_instead_of_json_rate, self.truncated_body_rate,
                 self.reset_rate, self.php_notice_rate)
        if any(r < 0 or r > 1 for r in rates):
            raise ValueError("fault rates must lie between 0 and 1")
        if sum(rates[:4]) > 1:
            raise ValueError("the exclusive fault rates add up to more than 1")
        if self.rate_limit_every < 0 or self.page_latency_ms < 0:
            raise ValueError("rate_limit_every and page_latency_ms must not be negative")


@dataclass(frozen=True)
class FaultDecision:
    """The fault chosen for one request; ``status`` is set for server errors."""

    kind: FaultKind
    status: int = 0
    php_notice: bool = False


class FaultPlan:
    """Draws a :class:`FaultDecision` per request, thread-safe and reproducible for a seed."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._count = 0

    def next(self) -> FaultDecision:
        """The decision for the next API request (counts requests in arrival order)."""
        f = self.faults
        with self._lock:
            self._count += 1
            n = self._count
            roll = self._rng.random()
            status_roll = self._rng.randrange(4)
            notice = self._rng.random() < f.php_notice_rate
        if f.rate_limit_every and n % f.rate_limit_every == 0:
            return FaultDecision(FaultKind.RATE_LIMIT, 429)
        edge = f.error_5xx_rate
        if roll < edge:
            return FaultDecision(FaultKind.SERVER_ERROR, (500, 502, 503, 504)[status_roll])
        edge += f.html_instead_of_json_rate
        if roll < edge:
            return FaultDecision(FaultKind.HTML_INSTEAD_OF_JSON, 200)
        edge += f.truncated_body_rate
        if roll < edge:
            return FaultDecision(FaultKind.TRUNCATED_BODY, php_notice=notice)
        edge += f.reset_rate
        if roll < edge:
            return FaultDecision(FaultKind.RESET)
        return FaultDecision(FaultKind.NONE, php_notice=notice)


RATE_LIMIT_HTML = (
    "<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head>\n"
    "<body><h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of "
    "time. Please slow down.</p><hr><address>nginx</address></body></html>\n"
)
ERROR_HTML = {
    500: ("<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function "
          "wc_get_sandbox() in /var/www/html/wp-content/plugins/sandbox/sandbox.php:42\n"
          "Stack trace:\n#0 {main}\n  thrown in <b>/var/www/html/wp-content/plugins/sandbox/"
          "sandbox.php</b> on line <b>42</b><br />\n<p>There has been a critical error on this "
          "website.</p>"),
    502: ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 "
          "Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
    503: ("<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head><body>"
          "<h1>503 Service Unavailable</h1><p>The server is temporarily busy, try again "
          "later.</p></body></html>\n"),
    504: ("<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>"
          "504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
          "</html>\r\n"),
}
PHP_NOTICE = (
    "<br />\n<b>Notice</b>:  Undefined index: sandbox in <b>/var/www/html/wp-content/themes/"
    "shop/functions.php</b> on line <b>17</b><br />\n"
)
