"""One retry policy for every shop request, and the pieces both platforms share: which outcomes
are worth retrying, ``Retry-After``, lenient JSON parsing, and redaction of secrets.

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
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from journeybridge.redact import redact  # re-exported: the one redaction (journeybridge.redact)

__all__ = [
    "RETRY_STATUSES",
    "BadBodyError",
    "RetryPolicy",
    "RetryableStatusError",
    "looks_html",
    "network_reason",
    "parse_json_body",
    "parse_retry_after",
    "redact",
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
    if value.isdigit():
        return float(value)
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

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatusError):
            after = parse_retry_after(exc.response.headers.get("Retry-After"))
            if after is not None:
                return after
        ceiling = min(self.max_wait, self.base_wait * (2 ** (state.attempt_number - 1)))
        return random.uniform(0, ceiling)  # full jitter

    def call(self, what: str, func: Callable[[], T]) -> T:
        """Run ``func`` under this policy; ``what`` names the request in log lines. The last
        exception is re-raised when every attempt failed or a wait would be too long."""

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, _short(exc),
                        state.attempt_number, self.attempts - 1, wait)


        retrying = Retrying(
            retry=retry_if_exception_type(_RETRYABLE),
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


def _short(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    text = redact(str(exc))
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


_BOM = "\ufeff"


def parse_json_body(response: requests.Response) -> Any:
    """The JSON in ``response``, tolerating a BOM and PHP notices printed before it.

    Raises :class:`BadBodyError` when the body is HTML, empty, truncated or otherwise not JSON.
    """
    text = response.text
    if text.startswith(_BOM):
        text = text[1:]
    stripped = text.strip()
    if not stripped:
        raise BadBodyError("empty body where JSON was expected", response)
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    # PHP notices/warnings printed before the JSON: find the JSON after the last HTML line
    match = re.search(r"(?:\n|^)\s*([\[{])", stripped)
    if match and not stripped.lstrip().lower().startswith(("<!doctype", "<html")):
        candidate = stripped[match.start(1):]
        try:
            value = json.loads(candidate)
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
