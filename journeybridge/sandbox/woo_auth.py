"""Who is asking the WooCommerce API: the shop's keys and its OAuth 1.0a check over plain HTTP.

The checks run in the real shop's order (parameters present, key known, signature method,
signature, timestamp) with its error codes and messages; the signature itself is
:mod:`.oauth1`'s. OAuth parameters may come in the query or in an ``Authorization: OAuth``
header.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .oauth1 import (
    OAUTH_PARAMS,
    PhpParams,
    PhpValue,
    parse_authorization_header,
    signature_matches,
    timestamp_ok,
)
from .wire import HttpRequest, as_text
from .woo_args import ApiError


@dataclass(frozen=True)
class WooCredentials:
    """The shop's two API keys: ``key``/``secret`` read_write, ``ro_key``/``ro_secret`` read."""

    key: str
    secret: str
    ro_key: str
    ro_secret: str

    @classmethod
    def from_seed(cls, seed: int) -> WooCredentials:
        """Deterministic keys of the real format (``ck_`` / ``cs_`` + 40 hex digits)."""
        def make(label: str) -> str:
            return hashlib.sha256(f"journeybridge-sandbox/{seed}/{label}".encode()).hexdigest()[:40]
        return cls("ck_" + make("ck"), "cs_" + make("cs"), "ck_" + make("ck-ro"),
                   "cs_" + make("cs-ro"))

    def keys(self) -> dict[str, tuple[str, str]]:
        """Consumer key -> (secret, permissions ``read_write`` or ``read``)."""
        return {self.key: (self.secret, "read_write"), self.ro_key: (self.ro_secret, "read")}


def authenticate(request: HttpRequest, params: PhpParams, via_query: bool,
                 keys: Mapping[str, tuple[str, str]]) -> str | None:
    """The permissions of the key that signed ``request``, None when it carries no OAuth
    parameters at all; raises the shop's 401 :class:`ApiError` for a bad key or signature.

    ``via_query``: the route came in ``?rest_route=``, so the signed URL is the site root.
    """
    oauth: dict[str, PhpValue] = dict(params)
    header = request.header("authorization").strip()
    if header:
        oauth.update(parse_authorization_header(header))
    present = [n for n in OAUTH_PARAMS if as_text(oauth.get(n))]
    if not present:
        return None
    missing = [n for n in OAUTH_PARAMS if n not in present]
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise ApiError(401, "woocommerce_rest_authentication_missing_parameter",
                       f"Missing OAuth {noun} {', '.join(missing)}")
    key = as_text(oauth["oauth_consumer_key"]) or ""
    entry = keys.get(key)
    if entry is None:
        raise ApiError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    secret, permissions = entry
    path = "" if via_query else request.path.lstrip("/")
    base_uri = request.base_url + ("/" + path if path else "")
    ok = signature_matches(request.method, base_uri, oauth, secret)
    if ok is None:
        raise ApiError(401, "woocommerce_rest_authentication_error",
                       "Invalid signature - signature method is invalid.")
    if not ok:
        raise ApiError(401, "woocommerce_rest_authentication_error",
                       "Invalid signature - provided signature does not match.")
    if not timestamp_ok(as_text(oauth["oauth_timestamp"]) or "", time.time()):
        raise ApiError(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
    return permissions
