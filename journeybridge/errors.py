"""The errors journeybridge raises, in one tree.

Every error's ``str()`` is one line a shop owner can act on, naming the shop URL and endpoint
where there is one, and never a secret::

    JourneybridgeError
    ├── ConfigError            a configuration file or value is wrong
    ├── InvalidRecord          one record failed validation (field and record named)
    └── ShopError              talking to a shop failed
        ├── ShopUnreachable    connection refused, DNS, timeout (after retries)
        ├── NotAShopAPI        HTML or garbage where JSON was expected: wrong URL?
        ├── PlatformMissing    the site answers, but the shop API is not there
        ├── AuthenticationError  key or secret refused
        ├── PermissionDenied   the key may not do this (e.g. a read-only key asked to write)
        ├── TransientShopError 429 / 5xx still failing after the bounded retries
        └── ShopRequestError   any other refusal (4xx) with the shop's own code and message

The Meta Conversions API sink adds its own (``journeybridge.events.graph``): ``GraphError``,
with ``GraphAuthError`` (an invalid or expired token, code 190) and ``GraphTransientError``
(rate limits and server errors that outlasted the retries).
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "InvalidRecord",
    "JourneybridgeError",
    "NotAShopAPI",
    "PermissionDenied",
    "PlatformMissing",
    "ShopError",
    "ShopRequestError",
    "ShopUnreachable",
    "TransientShopError",
]


class JourneybridgeError(Exception):
    """Base of every error journeybridge raises on purpose."""


class ConfigError(JourneybridgeError):
    """A configuration file or value is wrong; the message names the file, key and expectation."""


class InvalidRecord(JourneybridgeError):
    """A record from a shop (or given by a caller) does not fit the journey model."""

    def __init__(self, record: str, problems: list[str]) -> None:
        self.record = record
        self.problems = problems
        super().__init__(f"invalid {record}: " + "; ".join(problems))


class ShopError(JourneybridgeError):
    """Talking to a shop failed. Carries the shop URL, the endpoint, the HTTP status and the
    platform's own error code where known."""

    def __init__(
        self,
        message: str,
        *,
        shop_url: str,
        endpoint: str,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.shop_url = shop_url
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        where = f"{shop_url} {endpoint}".strip()
        extra = []
        if status is not None:
            extra.append(f"HTTP {status}")
        if code:
            extra.append(code)
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
