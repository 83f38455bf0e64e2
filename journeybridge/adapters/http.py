"""The one HTTP shell both shop clients send through: :class:`Transport` (a pooled session, the
request counter, the shop URL check, the retry policy, the translation of exhausted retries
and network failures into typed errors, and :meth:`Transport.error`, which fills every typed
error with status, platform code, endpoint, request id and a scrubbed body excerpt), plus the
pieces both platforms share: which outcomes are worth retrying, ``Retry-After``, lenient JSON
parsing, and redaction of secrets and e-mail addresses. Each client keeps only its outcome
table (which status and body mean which error) and how it addresses and signs requests.

Retried (bounded, exponential backoff with jitter, ``Retry-After`` honoured up to a ceiling):
connection errors, timeouts, connections dropped mid-body, HTTP 429, 500, 502, 503 and 504,
and a body that is not the JSON the endpoint promised after the endpoint already worked once.
Never retried: 400, 401, 403, 404 and other client errors.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from journeybridge.errors import (
    NotAShopAPI,
    ShopError,
    ShopRequestError,
    ShopUnreachable,
    TransientShopError,
)
from journeybridge.redact import redact, scrub  # re-exported: the one redaction

__all__ = [
    "REQUEST_ID_HEADERS",
    "RETRY_STATUSES",
    "BadBodyError",
    "RetryPolicy",
    "RetryableStatusError",
    "Transport",
    "body_excerpt",
    "check_shop_url",
    "looks_html",
    "network_reason",
    "parse_json_body",
    "parse_retry_after",
    "redact",
    "request_id",
    "scrub",
]

log = logging.getLogger("journeybridge.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class RetryableStatusError(Exception):
    """An HTTP answer worth another try (429 or 5xx); carries the response."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        super().__init__(f"HTTP {response.status_code}")


class BadBodyError(Exception):
    """A body that is not the JSON the endpoint promised (HTML, truncated, garbage)."""

    def __init__(self, reason: str, response: requests.Response | None = None) -> None:
        self.reason = reason
        self.response = response
        super().__init__(reason)


_RETRYABLE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    RetryableStatusError,
    BadBodyError,
)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None
    when the header is absent or unreadable. Never negative."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) <= 9 else float("inf")
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retries: ``attempts`` tries in all, exponential backoff from ``base_wait``
    seconds doubling up to ``max_wait``, with full jitter; a ``Retry-After`` longer than
    ``max_retry_after`` is not waited for (the error is raised instead)."""

    attempts: int = 5
    base_wait: float = 0.5
    max_wait: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    retry_refused: bool = True
    """False: a refused connection (nothing listening at the address) is final at once, as
    ``journeybridge check`` wants it."""

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1 = the first) when the server
        named none: exponential from ``base_wait`` up to ``max_wait``, full jitter."""
        ceiling = min(self.max_wait, self.base_wait * (2 ** (max(1, attempt) - 1)))
        return random.uniform(0, ceiling)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatusError):
            after = parse_retry_after(exc.response.headers.get("Retry-After"))
            if after is not None:
                return after
        return self.backoff(state.attempt_number)

    def call(self, what: str, func: Callable[[], T]) -> T:
        """Run ``func`` under this policy; ``what`` names the request in log lines. The last
        exception is re-raised when every attempt failed or a wait would be too long."""

        def before_sleep(state: RetryCallState) -> None:
            # INFO: in cron's JSON log and with -v, not on a terminal; the error that ends
            # the retries is the one line a person needs
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.info("%s failed (%s); retry %d/%d in %.1fs", what, _short(exc),
                     state.attempt_number, self.attempts - 1, wait,
                     extra={"event": "retry"})

        def worth_retrying(exc: BaseException) -> bool:
            if not isinstance(exc, _RETRYABLE):
                return False
            return self.retry_refused or not _refused(exc)

        retrying = Retrying(
            retry=retry_if_exception(worth_retrying),
            stop=stop_any(stop_after_attempt(self.attempts), _StopOnLongRetryAfter(self)),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(func)


class _StopOnLongRetryAfter(stop_base):
    """Stop when the server asks us to wait longer than the policy allows."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableStatusError):
            after = parse_retry_after(exc.response.headers.get("Retry-After"))
            return after is not None and after > self.policy.max_retry_after
        return False


def _refused(exc: BaseException) -> bool:
    return (isinstance(exc, requests.ConnectionError)
            and network_reason(exc) == "connection refused")


def _short(exc: BaseException | None) -> str:
    """A failed attempt in a few words: the network reason (no urllib3 internals), else the
    error's type and text."""
    if exc is None:
        return "no error"
    if isinstance(exc, requests.RequestException):
        return network_reason(exc)
    text = redact(str(exc))
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


_BOM = "\ufeff"


def _bounded_int(text: str) -> int | str:
    """JSON integers as ints, except absurdly long ones, kept as their text (an id of 5,000
    digits is a malformed record, not a reason to refuse the whole page)."""
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


_MAX_INT_DIGITS = 4000


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
    try:
        return json.loads(text, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def parse_json_body(response: requests.Response) -> Any:
    """The JSON in ``response``, tolerating a BOM and PHP notices printed before it.

    Raises :class:`BadBodyError` when the body is HTML, empty, truncated, nested too deeply
    to read, or otherwise not JSON; never anything else. Integers too long to be real ids
    or counts stay text, so the record holding one is reported instead of the page.
    """
    text = response.text
    if text.startswith(_BOM):
        text = text[1:]
    stripped = text.strip()
    if not stripped:
        raise BadBodyError("empty body where JSON was expected", response)
    try:
        return _loads(stripped)
    except ValueError as exc:
        if "nested too deeply" in str(exc):
            raise BadBodyError("a JSON body nested too deeply to read", response) from None
    # PHP notices/warnings printed before the JSON: find the JSON after the last HTML line
    match = re.search(r"(?:\n|^)\s*([\[{])", stripped)
    if match and not stripped.lstrip().lower().startswith(("<!doctype", "<html")):
        candidate = stripped[match.start(1):]
        try:
            value = _loads(candidate)
        except ValueError:
            pass
        else:
            log.warning("%s: ignored %d bytes of PHP output before the JSON",
                        redact(response.url), match.start(1))
            return value
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type.lower() or stripped.lower().startswith(("<!doctype", "<html")):
        raise BadBodyError("an HTML page where JSON was expected", response)
    raise BadBodyError("a body that is not valid JSON (truncated or garbled)", response)


def looks_html(response: requests.Response) -> bool:
    """True when an answer is an HTML page (by its Content-Type or its first bytes)."""
    content_type = response.headers.get("Content-Type", "").lower()
    head = response.text.lstrip()[:200].lower()
    return "html" in content_type or head.startswith(("<!doctype", "<html"))


def network_reason(exc: requests.RequestException) -> str:
    """What went wrong on the network, in a few words a shop owner understands."""
    if isinstance(exc, requests.Timeout):
        return "the shop did not answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed (certificate problem?)"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "Name or service not known" in text or "getaddrinfo" in text or "resolve" in text:
            return "the host name does not resolve"
        if "refused" in text.lower():
            return "connection refused"
        return "the connection failed or was dropped"
    return f"request failed ({type(exc).__name__})"


REQUEST_ID_HEADERS = ("X-Request-Id", "X-Correlation-Id", "Request-Id", "X-Amzn-RequestId",
                      "CF-Ray", "X-Amz-Cf-Id")
"""Headers that name a request for the host's support desk. Neither real shop sends one of its
own (WordPress 6.8.3 / WooCommerce 10.0.2 and PrestaShop 8.1.2: see the recordings); proxies,
CDNs and managed hosts in front of them do."""


def request_id(response: requests.Response | None) -> str | None:
    """The request id a shop or its proxy gave the answer (first of
    :data:`REQUEST_ID_HEADERS`, at most 100 characters), or None."""
    if response is None:
        return None
    for name in REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value and value.strip():
            return value.strip()[:100]
    return None


def body_excerpt(response: requests.Response | None, *secrets: str, limit: int = 200) -> str:
    """The start of an answer's body on one line, at most ``limit`` characters, secrets and
    e-mail addresses scrubbed: enough to see what came back, never the whole page."""
    if response is None:
        return ""
    try:
        text = response.content[: limit * 8].decode(response.encoding or "utf-8", "replace")
    except (LookupError, RuntimeError, requests.RequestException):
        return ""
    text = scrub(" ".join(text.split()), *secrets)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_shop_url(url: str) -> str:
    """``url`` trimmed and without a trailing slash; raises ShopRequestError unless it is an
    ``http://`` or ``https://`` address with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ShopRequestError("the shop URL must start with http:// or https://",
                               shop_url=redact(url), endpoint="")
    return url.strip().rstrip("/")


class Transport:
    """One shop's HTTP connection: a ``requests.Session`` with a connection pool of
    ``pool_size``, a thread-safe request counter, and :meth:`send`, the only place a request
    goes out. ``secrets`` never appear in a log line, message or excerpt; ``not_api_hint``
    ends the message of NotAShopAPI; ``failure_detail`` reads the platform's ``(code,
    message)`` from an error answer (for the message of TransientShopError)."""

    def __init__(
        self,
        url: str,
        *,
        user_agent: str,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        pool_size: int = 4,
        verify_ssl: bool = True,
        secrets: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        not_api_hint: str = "",
        failure_detail: Callable[[requests.Response], tuple[str | None, str]] | None = None,
    ) -> None:
        self.url = check_shop_url(url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.verify_ssl = verify_ssl
        self.secrets = tuple(s for s in secrets if s)
        self.not_api_hint = not_api_hint
        self._failure_detail = failure_detail
        self._requests_sent = 0
        self._count_lock = threading.Lock()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": user_agent, **(headers or {})})

    @property
    def requests_sent(self) -> int:
        """Requests sent so far (every attempt counts)."""
        with self._count_lock:
            return self._requests_sent

    @requests_sent.setter
    def requests_sent(self, value: int) -> None:
        with self._count_lock:
            self._requests_sent = value

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def scrub(self, text: str) -> str:
        """``text`` without this shop's secrets, key-like parameters or e-mail addresses."""
        return scrub(text, *self.secrets)

    def error(self, kind: type[ShopError], message: str, response: requests.Response | None,
              *, endpoint: str, code: str | None = None) -> ShopError:
        """A typed error about ``response`` (None: no answer): scrubbed message, status,
        platform code, request id, body excerpt and the ``Retry-After`` wait."""
        status = response.status_code if response is not None else None
        after = (parse_retry_after(response.headers.get("Retry-After"))
                 if response is not None else None)
        return kind(self.scrub(message), shop_url=self.url, endpoint=endpoint, status=status,
                    code=code, request_id=request_id(response),
                    excerpt=body_excerpt(response, *self.secrets) or None,
                    retry_after=after)

    def send(
        self,
        method: str,
        endpoint: str,
        outcome: Callable[[requests.Response], T],
        *,
        url: str | Callable[[], str],
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
        retry: bool = True,
    ) -> T:
        """Send one request (``url`` built anew for each attempt when it is a function, e.g.
        to sign it) under the retry policy and return ``outcome(response)``. ``outcome`` is
        the client's outcome table: it returns the data, raises a ShopError (final),
        RetryableStatusError or BadBodyError (retried). ``endpoint`` names the request in
        messages ("GET orders"). ``retry=False`` makes one attempt (a POST that would create
        a second record). After the last attempt: TransientShopError (429/5xx), NotAShopAPI
        (a body that is not the API's), ShopUnreachable (network); nothing else escapes."""
        policy = self.retry if retry else RetryPolicy(attempts=1, sleep=self.retry.sleep)

        def attempt() -> T:
            target = url() if callable(url) else url
            with self._count_lock:
                self._requests_sent += 1
            response = self.session.request(method, target, data=data, auth=auth,
                                            headers=dict(headers or {}), timeout=self.timeout,
                                            verify=self.verify_ssl)
            return outcome(response)

        tries = f"{policy.attempts} attempt{'s' if policy.attempts != 1 else ''}"
        try:
            return policy.call(self.scrub(f"{self.url} {endpoint}"), attempt)
        except RetryableStatusError as exc:
            response = exc.response
            code, detail = (self._failure_detail(response) if self._failure_detail
                            else (None, ""))
            raise self.error(TransientShopError,
                             f"still failing after {tries}: "
                             f"{_one_line(detail) or response.reason or 'server error'}",
                             response, endpoint=endpoint, code=code) from None
        except BadBodyError as exc:
            hint = f": {self.not_api_hint}" if self.not_api_hint else ""
            raise self.error(NotAShopAPI, f"{exc.reason} (after {tries}){hint}",
                             exc.response, endpoint=endpoint) from None
        except requests.RequestException as exc:
            if _refused(exc) and not policy.retry_refused:
                tries = "1 attempt"
            raise self.error(ShopUnreachable, f"{network_reason(exc)} (after {tries})", None,
                             endpoint=endpoint) from None


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TransportClient:
    """What every platform client shares around its :class:`Transport`: the retry policy,
    the pooled session, the request counter and closing."""

    transport: Transport

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy every request is sent under."""
        return self.transport.retry

    @property
    def session(self) -> requests.Session:
        """The pooled session (for hooks in tests and diagnostics)."""
        return self.transport.session

    @property
    def requests_sent(self) -> int:
        """Requests sent so far, every attempt counted."""
        return self.transport.requests_sent

    @requests_sent.setter
    def requests_sent(self, value: int) -> None:
        self.transport.requests_sent = value

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()
