"""The HTTP exchange as the sandbox's platform handlers see it: one request in, one response out.

Platform handlers (WooCommerce, PrestaShop) implement :class:`PlatformHandler` and
never touch sockets; the server owns the wire, statistics and fault injection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl

from .oauth1 import PhpParams, PhpValue


@dataclass(frozen=True)
class HttpRequest:
    """A received request: ``path`` and ``query`` raw (percent-encoded), headers lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    base_url: str

    def header(self, name: str, default: str = "") -> str:
        """The header's value (case-insensitive name) or ``default``."""
        return self.headers.get(name.lower(), default)


@dataclass
class HttpResponse:
    """A response to send: status, headers in order, body bytes (Content-Length is added)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def content_type(self) -> str:
        """The Content-Type header, or an empty string."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""


class PlatformHandler(Protocol):
    """One shop platform's API on the sandbox server."""

    name: str

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """Answer the request, or return None when it is not addressed to this platform."""


def parse_php_query(query: str) -> PhpParams:
    """Parse a query string the way PHP fills ``$_GET``.

    Repeated keys keep their first position and their last value; ``a[]=x`` and ``a[k]=x``
    build lists and dicts one level deep; dots and spaces in plain keys become underscores.
    """
    out: PhpParams = {}
    for raw_key, value in parse_qsl(query, keep_blank_values=True):
        if "[" in raw_key and raw_key.endswith("]"):
            base, _, rest = raw_key.partition("[")
            sub = rest[:-1]
            base = base.replace(".", "_").replace(" ", "_")
            current = out.get(base)
            if sub == "":
                if not isinstance(current, list):
                    current = []
                    out[base] = current
                current.append(value)
            else:
                if not isinstance(current, dict):
                    current = {}
                    out[base] = current
                current[sub] = value
        else:
            out[raw_key.replace(".", "_").replace(" ", "_")] = value
    return out


def as_text(value: PhpValue | None) -> str | None:
    """The scalar text of a parsed parameter (None for arrays or absence)."""
    return value if isinstance(value, str) else None
