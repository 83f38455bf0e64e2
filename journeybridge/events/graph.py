"""The Graph API sink: server events to ``POST {base_url}/{api_version}/{pixel_id}/events``.

What it promises:

* Events older than 7 days (less a 10-minute safety margin, since one stale event fails a
  whole request) and events more than a minute in the future are not sent; they are counted.
* Event ids already delivered to this pixel (:mod:`.sent`) are not sent again; each batch's ids
  are remembered right after Meta accepted it, so a run killed half-way resends nothing that
  got through. With a ``test_event_code`` the sent-log is neither read nor written (test events
  do not count as delivered).
* Batches of at most 1,000 events. The access token travels in the JSON body, never in a URL,
  and never appears in a log line or an error message.
* How each answer is handled (by Graph error code, not by the translated message):

  ==============================================  ==========================================
  answer                                          action
  ==============================================  ==========================================
  200 ``events_received``                         batch delivered; a count below the batch
                                                  size is reported
  codes 4, 17, 32, 613, 80001, 80004 (rate        retried with the bounded
  limits), 1, 2 (transient), HTTP 429 and 5xx,    :class:`~journeybridge.adapters.http.
  connection errors                               RetryPolicy` (``Retry-After`` honoured);
                                                  still failing: the run stops, the rest is
                                                  left for the next run
  code 190 / HTTP 401 (invalid or expired token)  no retry: :class:`GraphAuthError`, run stops
  code 100 (invalid parameter) and other 4xx      no retry of that batch: it is split in
                                                  halves until the bad events stand alone, so
                                                  the good ones still go; the bad ones are
                                                  reported with Meta's message
  ==============================================  ==========================================

Errors (defined in :mod:`journeybridge.errors`, re-exported here)::

    GraphError             Meta refused a request (status, code, subcode, fbtrace_id)
    ├── GraphAuthError     code 190 / HTTP 401: the token is invalid or expired
    └── GraphTransientError  rate limits, 5xx, connection errors after every retry
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from journeybridge.adapters.http import (
    BadBodyError,
    RetryableStatusError,
    RetryPolicy,
    parse_json_body,
    redact,
)
from journeybridge.errors import GraphAuthError, GraphError, GraphTransientError
from journeybridge.events.mapping import ServerEvent
from journeybridge.events.sent import SentEvents

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "MAX_BATCH",
    "RATE_LIMIT_CODES",
    "TRANSIENT_CODES",
    "BatchResult",
    "GraphAuthError",
    "GraphError",
    "GraphSink",
    "GraphTransientError",
    "SendReport",
]

log = logging.getLogger("journeybridge.events.graph")

DEFAULT_API_VERSION = "v25.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"
MAX_BATCH = 1000
MAX_AGE_SECONDS = 7 * 24 * 3600
AGE_MARGIN_SECONDS = 600
FUTURE_SKEW_SECONDS = 60
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80004})
TRANSIENT_CODES = frozenset({1, 2})


@dataclass
class BatchResult:
    """One request's outcome: its number, size, events Meta received, and the error (Meta's
    message and codes) with the ids of the events it refused."""

    number: int
    events: int
    received: int = 0
    error: str = ""
    failed_event_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when Meta accepted the batch."""
        return not self.error


@dataclass
class SendReport:
    """What a send did: counts by outcome, and every request's result."""

    considered: int = 0
    sent: int = 0
    already_sent: int = 0
    too_old: int = 0
    in_future: int = 0
    failed: int = 0
    not_attempted: int = 0
    stopped: str = ""
    batches: list[BatchResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every event meant to go out went out."""
        return not self.failed and not self.not_attempted and not self.stopped


class _Refused(Exception):
    """A non-retryable refusal of one request (not the token)."""

    def __init__(self, error: GraphError) -> None:
        self.error = error
        super().__init__(str(error))


class GraphSink:
    """Sends server events to one pixel. ``access_token`` is kept private; ``sent`` remembers
    delivered ids (optional); ``clock`` returns the current Unix time (for the age checks)."""

    def __init__(
        self,
        pixel_id: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        base_url: str = DEFAULT_BASE_URL,
        test_event_code: str | None = None,
        batch_size: int = MAX_BATCH,
        sent: SentEvents | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        isolate_bad_events: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not pixel_id.strip().isdigit():
            raise ValueError("pixel_id must be the pixel's (dataset's) numeric id")
        if not access_token:
            raise ValueError("an access token is required")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.pixel_id = pixel_id.strip()
        self._token = access_token
        self.api_version = api_version
        self.endpoint = f"{base_url.rstrip('/')}/{api_version}/{self.pixel_id}/events"
        self.test_event_code = test_event_code
        self.batch_size = batch_size
        self.sent = None if test_event_code else sent
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.timeout = timeout
        self.isolate = isolate_bad_events
        self.clock = clock
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"GraphSink(pixel_id={self.pixel_id!r}, endpoint={self.endpoint!r})"

    # -- one request ------------------------------------------------------------------------

    def _post_once(self, wire: list[dict[str, Any]]) -> int:
        body: dict[str, Any] = {"data": wire, "access_token": self._token}
        if self.test_event_code:
            body["test_event_code"] = self.test_event_code
        self.requests_sent += 1
        response = self.session.post(self.endpoint, json=body, timeout=self.timeout)
        try:
            payload = parse_json_body(response)
        except BadBodyError:
            if response.status_code >= 500 or response.status_code == 429:
                raise RetryableStatusError(response) from None
            raise
        error = payload.get("error") if isinstance(payload, dict) else None
        if response.status_code == 200 and isinstance(payload, dict) and not error:
            received = payload.get("events_received")
            return int(received) if isinstance(received, int) else len(wire)
        info = error if isinstance(error, dict) else {}
        code = info.get("code") if isinstance(info.get("code"), int) else None
        if (code in RATE_LIMIT_CODES or code in TRANSIENT_CODES
                or response.status_code >= 500 or response.status_code == 429):
            raise RetryableStatusError(response)
        graph_error = _graph_error(response, info)
        if code == 190 or response.status_code == 401:
            raise GraphAuthError(graph_error.message, status=graph_error.status, code=code,
                                 subcode=graph_error.subcode, fbtrace_id=graph_error.fbtrace_id)
        raise _Refused(graph_error)

    def _post(self, wire: list[dict[str, Any]], what: str) -> int:
        try:
            return self.retry.call(what, lambda: self._post_once(wire))
        except RetryableStatusError as exc:
            info = _error_info(exc.response)
            err = _graph_error(exc.response, info)
            raise GraphTransientError(err.message, status=err.status, code=err.code,
                                      subcode=err.subcode, fbtrace_id=err.fbtrace_id) from None
        except (requests.RequestException, BadBodyError) as exc:
            raise GraphTransientError(redact(str(exc), self._token)[:200]) from None

    # -- many events ------------------------------------------------------------------------

    def send(self, events: Sequence[ServerEvent]) -> SendReport:
        """Send ``events`` (see the module docstring for every rule). Returns the report;
        raises :class:`GraphAuthError` (with ``report`` attached) when the token is refused.
        Other failures are reported per batch, not raised."""
        report = SendReport(considered=len(events))
        now = self.clock()
        fresh: list[ServerEvent] = []
        seen: set[tuple[str, str]] = set()
        for event in events:
            if (event.event_name, event.event_id) in seen:
                continue
            seen.add((event.event_name, event.event_id))
            if event.event_time < now - MAX_AGE_SECONDS + AGE_MARGIN_SECONDS:
                report.too_old += 1
            elif event.event_time > now + FUTURE_SKEW_SECONDS:
                report.in_future += 1
            else:
                fresh.append(event)
        if self.sent is not None:
            done = self.sent.already_sent(e.event_id for e in fresh)
            report.already_sent = sum(1 for e in fresh if e.event_id in done)
            fresh = [e for e in fresh if e.event_id not in done]
        chunks = [fresh[i:i + self.batch_size] for i in range(0, len(fresh), self.batch_size)]
        for number, chunk in enumerate(chunks, start=1):
            try:
                result = self._send_batch(number, chunk)
            except GraphAuthError as exc:
                report.stopped = str(exc)
                report.not_attempted += sum(len(c) for c in chunks[number - 1:])
                exc.report = report
                raise
            except GraphTransientError as exc:
                report.stopped = str(exc)
                report.batches.append(BatchResult(number, len(chunk), error=str(exc)))
                report.not_attempted += sum(len(c) for c in chunks[number - 1:])
                log.error("batch %d: %s; stopping, %d events left for the next run", number,
                          exc, report.not_attempted)
                break
            report.batches.append(result)
            report.sent += len(chunk) - len(result.failed_event_ids)
            report.failed += len(result.failed_event_ids)
        return report

    def _send_batch(self, number: int, chunk: list[ServerEvent]) -> BatchResult:
        result = BatchResult(number, len(chunk))
        delivered: list[ServerEvent] = []
        errors: list[str] = []
        pending = [chunk]
        while pending:
            part = pending.pop(0)
            try:
                received = self._post([e.to_wire() for e in part],
                                      f"Graph API batch {number} ({len(part)} events)")
            except _Refused as refused:
                if self.isolate and len(part) > 1:
                    half = len(part) // 2
                    pending[:0] = [part[:half], part[half:]]
                    continue
                errors.append(refused.error.message)
                result.failed_event_ids.extend(e.event_id for e in part)
                log.warning("batch %d: %d event(s) refused: %s", number, len(part),
                            refused.error)
                continue
            result.received += received
            delivered.extend(part)
            if self.sent is not None:
                self.sent.mark_sent(e.event_id for e in part)
        if errors:
            unique = list(dict.fromkeys(errors))
            result.error = "; ".join(unique[:3]) + (f" (+{len(unique) - 3} more)"
                                                   if len(unique) > 3 else "")
        if result.received < len(delivered):
            log.warning("batch %d: Meta received %d of %d events", number, result.received,
                        len(delivered))
        log.info("batch %d: %d sent, %d refused", number, len(delivered),
                 len(result.failed_event_ids))
        return result


def _error_info(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def _graph_error(response: requests.Response, info: dict[str, Any]) -> GraphError:
    code = info.get("code")
    subcode = info.get("error_subcode")
    message = str(info.get("message") or f"HTTP {response.status_code}")[:300]
    title = info.get("error_user_title")
    if isinstance(title, str) and title:
        message = f"{message}: {title[:120]}"
    return GraphError(message, status=response.status_code,
                      code=code if isinstance(code, int) else None,
                      subcode=subcode if isinstance(subcode, int) else None,
                      fbtrace_id=str(info.get("fbtrace_id") or ""))
