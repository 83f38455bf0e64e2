"""Server-side OAuth 1.0a "one-legged" verification, the way WooCommerce checks plain-HTTP calls.

WooCommerce (``WC_REST_Authentication``) rebuilds the signature base string from:

* the upper-case HTTP method;
* the RFC 3986-encoded *home URL plus the request path* (the site's own home URL, not the
  ``Host`` header; for ``?rest_route=`` requests the path is empty, so the home URL alone);
* every GET (and form POST) parameter except ``oauth_signature``, sorted by key with ``strcmp``,
  key and value RFC 3986-encoded, joined as ``key=value``, encoded once more and joined with
  ``%26``. Nested PHP arrays (``status[0]=any``) become ``status%5B0%5D=...``.

The key is ``consumer_secret + "&"``; HMAC-SHA1 and HMAC-SHA256 are accepted; the timestamp
must lie within 15 minutes of the server clock. Nonce replay is not tracked here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import TypeAlias
from urllib.parse import quote, unquote

PhpValue: TypeAlias = str | list["PhpValue"] | dict[str, "PhpValue"]
PhpParams: TypeAlias = dict[str, PhpValue]

TIMESTAMP_WINDOW_SECONDS = 15 * 60
OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                "oauth_signature_method")
_HEADER_RE = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


def rfc3986(text: str) -> str:
    """Percent-encode like PHP ``rawurlencode`` (everything but ``A-Za-z0-9-_.~``)."""
    return quote(text, safe="-_.~")


def _encode_values(value: PhpValue) -> PhpValue:
    if isinstance(value, list):
        return [_encode_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode_values(v) for k, v in value.items()}
    return rfc3986(value)


def _join(params: Mapping[str, PhpValue], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in params.items():
        full = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, dict):
            out.extend(_join(value, full))
        elif isinstance(value, list):
            out.extend(_join({str(i): v for i, v in enumerate(value)}, full))
        else:
            out.append(rfc3986(f"{full}={value}"))
    return out


def signature_base_string(method: str, base_uri: str, params: Mapping[str, PhpValue]) -> str:
    """The string WooCommerce signs for ``method`` on ``base_uri`` with these parameters.

    ``params`` are the decoded request parameters (PHP ``$_GET`` shape); ``oauth_signature`` is
    left out if present.
    """
    items = {k: v for k, v in params.items() if k != "oauth_signature"}
    ordered = {rfc3986(k): _encode_values(items[k])
               for k in sorted(items, key=lambda s: s.encode("utf-8"))}
    query = "%26".join(_join(ordered))
    return f"{method.upper()}&{rfc3986(base_uri)}&{query}"


def sign(base_string: str, consumer_secret: str, signature_method: str) -> str:
    """Base64 HMAC of ``base_string`` with key ``consumer_secret + '&'``.

    ``signature_method`` is ``HMAC-SHA1`` or ``HMAC-SHA256``; anything else raises ValueError.
    """
    algo = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}.get(signature_method)
    if algo is None:
        raise ValueError(signature_method)
    digest = hmac.new((consumer_secret + "&").encode(), base_string.encode(), algo).digest()
    return base64.b64encode(digest).decode()


def parse_authorization_header(header: str) -> dict[str, str]:
    """OAuth parameters from an ``Authorization: OAuth ...`` header (empty dict otherwise)."""
    if not header.startswith("OAuth "):
        return {}
    params: dict[str, str] = {}
    for match in _HEADER_RE.finditer(header):
        raw = match.group(3) if match.group(3) else (match.group(4) or "")
        params[match.group(1)] = unquote(raw.replace("+", " "))
    return params


def signature_matches(method: str, base_uri: str, params: Mapping[str, PhpValue],
                      consumer_secret: str) -> bool | None:
    """True if ``params['oauth_signature']`` is right, False if not, None for a bad method."""
    provided = params.get("oauth_signature")
    sig_method = params.get("oauth_signature_method")
    if not isinstance(provided, str) or not isinstance(sig_method, str):
        return False
    if sig_method not in ("HMAC-SHA1", "HMAC-SHA256"):
        return None
    expected = sign(signature_base_string(method, base_uri, params), consumer_secret, sig_method)
    consumer_signature = unquote(provided.replace(" ", "+"))
    return hmac.compare_digest(expected, consumer_signature)


def timestamp_ok(timestamp: str, now: float) -> bool:
    """True when ``timestamp`` (Unix seconds as text) is within 15 minutes of ``now``."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    return now - TIMESTAMP_WINDOW_SECONDS <= ts <= now + TIMESTAMP_WINDOW_SECONDS
