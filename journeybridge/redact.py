"""Making text safe to print: the one redaction every log line, error message and report
passes through.

:func:`redact` masks, in any text:

* the secrets given to it (a shop's key, a Graph API token) wherever they appear;
* key-like query or form parameters: ``consumer_key``, ``consumer_secret``, ``oauth_*``,
  ``ws_key``, ``access_token``, ``key``, ``secret``, ``token``, ``password`` (``ws_key=***``);
* ``Authorization`` header values (``Authorization: ***``, also as a quoted dict entry);
* credentials in URLs: the whole user part of an ``http(s)`` URL (a PrestaShop key travels as
  the basic-auth user, WooCommerce keys as user and password: ``https://***@shop``), the
  password of any other URL (``postgresql://user:***@db``);
* e-mail addresses, keeping the first letter and the domain (``a***@example.com``), so a
  person can still be told apart in a log without being named.

:func:`excerpt` shortens a text that is echoed back (a faulty rule, a body from a shop) to a
bounded length. Both are pure and never raise.
"""

from __future__ import annotations

import re

__all__ = ["excerpt", "mask_email", "redact", "redact_url", "scrub"]

_SECRET_PARAMS = re.compile(
    r"((?:consumer_key|consumer_secret|oauth_signature|oauth_consumer_key|oauth_token|ws_key|"
    r"access_token|api_key|key|secret|token|password)=)[^&\s'\"]+",
    re.IGNORECASE,
)
_AUTHORIZATION = re.compile(
    r"""(\bAuthorization['"]?\s*[:=]\s*['"]?)[^'"\r\n,}]+""", re.IGNORECASE)
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\s?#'\"<>]*)@")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def _userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group(1), match.group(2)
    if scheme.lower() in ("http://", "https://") or ":" not in userinfo:
        masked = "***" if scheme.lower() in ("http://", "https://") else userinfo
    else:
        masked = f"{userinfo.split(':', 1)[0]}:***"
    return f"{scheme}{masked}@"


def redact_url(text: str) -> str:
    """``text`` with the credentials in every URL masked: the user part of an http(s) URL,
    the password of any other (``postgresql://u:***@db/x``)."""
    return _URL_USERINFO.sub(_userinfo, text)


def mask_email(text: str) -> str:
    """``text`` with every e-mail address masked as ``a***@example.com``."""
    return _EMAIL.sub(r"\1***@\2", text)


def redact(text: str, *secrets: str) -> str:
    """``text`` safe for a log line or an error message: every given secret, key-like
    parameter, ``Authorization`` value, URL credential and e-mail address masked (see the
    module docstring)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _SECRET_PARAMS.sub(r"\1***", text)
    text = _AUTHORIZATION.sub(r"\1***", text)
    return mask_email(redact_url(text))


scrub = redact
"""The name :mod:`journeybridge.logs` gave :func:`redact`."""


def excerpt(text: str, limit: int = 200) -> str:
    """``text`` cut to at most ``limit`` characters (an ellipsis and the full length said at
    the cut), for echoing back something a person or a shop gave."""
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 10)
    return f"{text[:keep]}... ({len(text)} characters)"
