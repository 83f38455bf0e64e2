"""The errors journeybridge raises, in one tree.

Every error's ``str()`` is one line a shop owner can act on, naming the shop URL and endpoint
where there is one, and never a secret or a raw e-mail address. The ``journeybridge`` command
turns each kind into one exit code (:func:`journeybridge.cli.exit_code_for`), shown on the
right::

    JourneybridgeError                                                         exit
    ├── ConfigError            a configuration file, value or option is wrong        2
    │   ├── SegmentRuleError   a segment rule that cannot be parsed                  2
    │   └── ShopMismatch       a shop name now points at another shop than stored    2
    ├── PersonNotFound         no such person in the shop (a usage error)            2
    ├── ShopBusy               another run holds this shop's lock                   75
    ├── StateStoreError        the state store cannot be opened or used              3
    ├── InvalidRecord          one record failed validation (field and record named) 1
    ├── UnexpectedError        a bug: anything else that went wrong, in one line     1
    │                          (the traceback only with -v)
    ├── ShopError              talking to a shop failed
    │   ├── ShopUnreachable    connection refused, DNS, timeout (after retries)      3
    │   ├── NotAShopAPI        HTML or garbage where JSON was expected: wrong URL?   3
    │   ├── PlatformMissing    the site answers, but the shop API is not there       3
    │   ├── AuthenticationError  key or secret refused                               3
    │   ├── PermissionDenied   the key may not do this (a read-only key asked to write) 3
    │   ├── TransientShopError 429 / 5xx still failing after the bounded retries     1
    │   └── ShopRequestError   any other refusal (4xx) with the shop's own code      1
    └── GraphError             Meta's Graph API refused a request (status, code,     1
        │                      subcode, fbtrace_id)
        ├── GraphAuthError     code 190 / HTTP 401: the access token is refused      3
        └── GraphTransientError  rate limits, 5xx, connection errors after retries   1

Exit code 0 is success, 1 a partial failure (some records, writes or events failed, each
reported). The classes are importable from here; the older homes (``journeybridge.state``,
``journeybridge.stages.segments``, ``journeybridge.events.graph``) re-export them.
"""

from __future__ import annotations

from typing import Protocol

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "GraphAuthError",
    "GraphError",
    "GraphTransientError",
    "InvalidRecord",
    "JourneybridgeError",
    "NotAShopAPI",
    "PermissionDenied",
    "PersonNotFound",
    "PlatformMissing",
    "SegmentRuleError",
    "ShopBusy",
    "ShopError",
    "ShopMismatch",
    "ShopRequestError",
    "ShopUnreachable",
    "StateStoreError",
    "TransientShopError",
    "UnexpectedError",
]


def _restore(kind: type[JourneybridgeError], args: tuple[object, ...],
             state: dict[str, object]) -> JourneybridgeError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class JourneybridgeError(Exception):
    """Base of every error journeybridge raises on purpose. Every one can be pickled (a
    worker process hands its outcome, error included, back to its parent)."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class ConfigError(JourneybridgeError):
    """A configuration file or value is wrong; the message names the file, key and expectation."""


class SegmentRuleError(ConfigError):
    """A segment rule that cannot be parsed; names the segment, the position and the problem."""


class ShopMismatch(ConfigError):
    """A shop name is configured for another shop (platform or URL) than the one the state
    store holds under that name; nothing is written. Start afresh with ``--reset-state`` or a
    new name."""


class PersonNotFound(JourneybridgeError):
    """No person in the shop has the key or e-mail address asked for (a usage error)."""


class ShopBusy(JourneybridgeError):
    """Another run holds this shop's lock (it is syncing the same shop right now)."""


class StateStoreError(JourneybridgeError):
    """The state store cannot be opened or used (unreachable database, unwritable file,
    schema written by a newer journeybridge)."""


class UnexpectedError(JourneybridgeError):
    """Something went wrong that journeybridge does not expect (a bug): one line naming the
    exception, the traceback kept for ``-v``. Made with :meth:`of`."""

    @classmethod
    def of(cls, error: BaseException, where: str = "") -> UnexpectedError:
        """The one-line form of ``error`` (its type and the start of its message)."""
        text = " ".join(str(error).split())[:200]
        place = f" {where}" if where else ""
        return cls(f"unexpected error{place}: {type(error).__name__}"
                   f"{': ' + text if text else ''} (a bug in journeybridge; -v shows the "
                   "traceback)")


class InvalidRecord(JourneybridgeError):
    """A record from a shop (or given by a caller) does not fit the journey model."""

    def __init__(self, record: str, problems: list[str]) -> None:
        self.record = record
        self.problems = problems
        super().__init__(f"invalid {record}: " + "; ".join(problems))


class ShopError(JourneybridgeError):
    """Talking to a shop failed. Carries the shop URL, the endpoint, the HTTP status and the
    platform's own error code where known, the request id where the shop (or a proxy in front
    of it) sent one, a short scrubbed excerpt of the answer's body (no secrets, no e-mail
    addresses) and, for rate limits, the wait the shop asked for (``retry_after``, seconds).

    ``str()`` is one line: the shop, the endpoint, the message, then status, code and request
    id in brackets; the excerpt is kept out of it (read ``excerpt`` for diagnostics)."""

    def __init__(
        self,
        message: str,
        *,
        shop_url: str,
        endpoint: str,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        excerpt: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.shop_url = shop_url
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.request_id = request_id
        self.excerpt = excerpt
        self.retry_after = retry_after
        self.message = message
        where = f"{shop_url} {endpoint}".strip()
        extra = []
        if status is not None:
            extra.append(f"HTTP {status}")
        if code:
            extra.append(code)
        if request_id:
            extra.append(f"request id {request_id}")
        suffix = f" ({', '.join(extra)})" if extra else ""
        super().__init__(f"{where}: {message}{suffix}")


class ShopUnreachable(ShopError):
    """The shop could not be reached: connection refused, name not found, timed out."""


class NotAShopAPI(ShopError):
    """The URL answered, but not with the shop API's JSON (an HTML page, a truncated body)."""


class PlatformMissing(ShopError):
    """The site answers but the shop API route does not exist (e.g. WooCommerce not active)."""


class AuthenticationError(ShopError):
    """The shop refused the credentials."""


class PermissionDenied(ShopError):
    """The credentials are valid but may not do this (a read-only key asked to write)."""


class TransientShopError(ShopError):
    """Rate limits or server errors that persisted through every retry."""


class ShopRequestError(ShopError):
    """The shop refused the request for another reason; its code and message are kept."""


class GraphError(JourneybridgeError):
    """Meta refused a request; carries HTTP status, Graph code and subcode, and fbtrace_id."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 subcode: int | None = None, fbtrace_id: str = "") -> None:
        self.status = status
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        self.message = message
        details = [f"HTTP {status}"] if status is not None else []
        if code is not None:
            details.append(f"code {code}" + (f"/{subcode}" if subcode is not None else ""))
        if fbtrace_id:
            details.append(f"fbtrace_id {fbtrace_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        super().__init__(f"Meta Graph API: {message}{suffix}")


class SentSoFar(Protocol):
    """What a sender got through before it stopped (``events.graph.SendReport`` is one);
    errors.py names the shape only, so it imports nothing of journeybridge."""

    @property
    def sent(self) -> int:
        """Events accepted so far."""


class GraphAuthError(GraphError):
    """The access token was refused (code 190 or HTTP 401): nothing more can be sent.
    ``report`` says what got through before (set by the sink that raised it)."""

    report: SentSoFar | None = None


class GraphTransientError(GraphError):
    """Rate limits, server or connection errors that outlasted every retry."""
