"""The HTTP side of the PrestaShop adapter: Webservice requests through a pooled session, and
one table that turns every answer into data or a typed error.

Authentication is the Webservice key as the HTTP Basic user with an empty password (or, for
hosts whose PHP runs as CGI and drops the ``Authorization`` header, ``?ws_key=`` in the query
string: ``key_in_query``). Reads ask for JSON (``output_format=JSON``); writes send XML (the
Webservice accepts no JSON input, PrestaShop/PrestaShop#11099; a JSON body fails with 500, code
127) and read the XML answer.

The outcome table (:meth:`PrestaClient.classify`), checked against real 8.1.2 answers:

====================================  =========================================================
answer                                what happens
====================================  =========================================================
2xx with JSON (``[]`` included)       data
2xx with HTML or garbage              retried (a proxy or a PHP notice), then NotAShopAPI
401 ``text/html`` "401 Unauthorized"  AuthenticationError: no key arrived (CGI hosts: ws_key)
401 codes 17, 18, 20, 21              AuthenticationError: the key is unknown or inactive
401 code 26                           PermissionDenied: the key may not use this resource
405 code 25                           PermissionDenied: the key may not use this method
503 code 22                           PlatformMissing: the Webservice is disabled (no retry)
429, 5xx without a Webservice error   retried (``Retry-After`` honoured), then
                                      TransientShopError
5xx with a Webservice error (32, 38,  ShopRequestError with the shop's codes and messages
127...)                               (a refused query is not worth repeating)
404 with an empty body                ShopRequestError "no such record" (``get_xml`` returns
                                      None instead)
404 or other 4xx with HTML            NotAShopAPI: no Webservice at this address
other 4xx                             ShopRequestError with the shop's codes and messages
connection refused, DNS, timeouts     retried, then ShopUnreachable
====================================  =========================================================

PHP warnings the Webservice appends as errors (code 3) carry server file paths: they are left
out of messages. No message, log line or error ever holds the key.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from journeybridge.adapters.http import (
    RETRY_STATUSES,
    BadBodyError,
    RetryableStatusError,
    RetryPolicy,
    Transport,
    TransportClient,
    looks_html,
    parse_json_body,
)
from journeybridge.errors import (
    AuthenticationError,
    NotAShopAPI,
    PermissionDenied,
    PlatformMissing,
    ShopError,
    ShopRequestError,
)

__all__ = ["PrestaClient", "PrestaResponse", "webservice_errors"]

log = logging.getLogger("journeybridge.prestashop")

USER_AGENT = "journeybridge/0.1 (+PrestaShop Webservice client)"
NOT_API_HINT = ("is the shop URL right (the Webservice answers under /api/), and is nothing "
                "(a proxy, a PHP notice) printing into the answer?")
_PHP_WARNING = 3
_AUTH_CODES = frozenset({17, 18, 20, 21})
_DISABLED = 22
_RESOURCE_NOT_ALLOWED = 26
_METHOD_NOT_ALLOWED = 25


@dataclass(frozen=True)
class PrestaResponse:
    """A successful answer: the parsed JSON (or XML text) and the shop's Webservice version
    (``PSWS-Version``, empty when absent)."""

    data: Any
    status: int
    version: str


def webservice_errors(response: requests.Response) -> list[tuple[int, str]]:
    """The ``(code, message)`` pairs of a Webservice error body, JSON or XML; PHP warnings
    (code 3) left out; empty when the body is not a Webservice error."""
    text = response.text.strip()
    found: list[tuple[int, str]] = []
    if text.startswith("{"):
        try:
            data = parse_json_body(response)
        except BadBodyError:
            return []
        errors = data.get("errors") if isinstance(data, dict) else None
        for item in errors if isinstance(errors, list) else []:
            if isinstance(item, dict):
                code = _as_int(item.get("code"))
                found.append((code, str(item.get("message", ""))))
    elif text.startswith("<?xml") or text.startswith("<prestashop"):
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(text)  # noqa: S314 - the shop's own answer, no entities used
        except ET.ParseError:
            return []
        for error in root.iter("error"):
            found.append((_as_int(error.findtext("code")), error.findtext("message") or ""))
    return [(code, html.unescape(message)) for code, message in found if code != _PHP_WARNING]


def _as_int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0



class PrestaClient(TransportClient):
    """Requests to one PrestaShop shop's Webservice (``{url}/api/``), sent through one
    :class:`~journeybridge.adapters.http.Transport`. Thread-safe.

    ``url`` is the shop's address (the Webservice lives under ``/api/``); ``key`` the
    32-character Webservice key.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        pool_size: int = 4,
        verify_ssl: bool = True,
        key_in_query: bool = False,
    ) -> None:
        address = url.strip().rstrip("/")
        if address.endswith("/api"):
            address = address[: -len("/api")]
        self.transport = Transport(address, user_agent=USER_AGENT, timeout=timeout,
                                   retry=retry, pool_size=pool_size, verify_ssl=verify_ssl,
                                   secrets=(key,), not_api_hint=NOT_API_HINT,
                                   failure_detail=_failure_detail)
        self.url = self.transport.url
        self._key = key
        self.key_in_query = key_in_query
        self.version = ""

    # -- requests ---------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> PrestaResponse:
        """``GET /api/{path}`` as JSON: ``data`` is the parsed body (a bare ``[]`` for an empty
        list). Raises the typed error of the outcome table."""
        query = {**(params or {}), "output_format": "JSON"}
        return self._send("GET", path, query, None, expect="json")

    def get_xml(self, path: str, params: Mapping[str, Any] | None = None) -> str | None:
        """``GET /api/{path}`` as XML text (the form a PUT sends back), or None when the record
        does not exist (404 with an empty body)."""
        try:
            return str(self._send("GET", path, dict(params or {}), None, expect="xml").data)
        except ShopRequestError as exc:
            if exc.status == 404:
                return None
            raise

    def send_xml(self, method: str, path: str, body: str, *, retry: bool = True) -> str:
        """``PUT`` or ``POST`` an XML document to ``/api/{path}``; returns the XML answer.
        A PUT carries the whole object, so repeating it is harmless and it is retried like a
        read; pass ``retry=False`` for a POST, which would create a second record."""
        return str(self._send(method, path, {}, body.encode("utf-8"), expect="xml",
                              retry=retry).data)

    def _send(self, method: str, path: str, query: dict[str, Any], body: bytes | None, *,
              expect: str, retry: bool = True) -> PrestaResponse:
        endpoint = f"{method} {path}"
        if self.key_in_query:
            query = {**query, "ws_key": self._key}
        url = f"{self.url}/api/{path}"
        if query:
            url = f"{url}?{urlencode(query, safe='[]|,:')}"
        headers = {"Accept": "application/json" if expect == "json" else "text/xml"}
        if body is not None:
            headers["Content-Type"] = "text/xml; charset=utf-8"
        return self.transport.send(
            method, endpoint, lambda response: self.classify(response, endpoint, expect=expect),
            url=url, data=body, headers=headers,
            auth=None if self.key_in_query else (self._key, ""), retry=retry)

    # -- the outcome table ------------------------------------------------------------------

    def classify(self, response: requests.Response, endpoint: str, *,
                 expect: str = "json") -> PrestaResponse:
        """The data of a successful answer, or the exception its outcome calls for (see the
        module docstring): RetryableStatusError and BadBodyError are retried by the policy,
        ShopError subclasses are final."""
        status = response.status_code
        version = response.headers.get("PSWS-Version", "")
        if version and version != "0":
            self.version = version
        if status == 503 and any(code == _DISABLED for code, _ in webservice_errors(response)):
            raise self._make(PlatformMissing, response, endpoint,
                             "the PrestaShop Webservice is disabled: enable it in the back "
                             "office (Advanced Parameters > Webservice)")
        if status in RETRY_STATUSES:
            errors = webservice_errors(response)
            if status >= 500 and errors:
                raise self._refused(response, endpoint, errors)
            raise RetryableStatusError(response)
        if status >= 400:
            raise self._error(response, endpoint)
        if expect == "xml":
            text = response.text
            if not text.lstrip().startswith("<?xml") and "<prestashop" not in text[:500]:
                raise BadBodyError("a body that is not the Webservice's XML", response)
            return PrestaResponse(text, status, version)
        if looks_html(response):
            raise BadBodyError("an HTML page where the Webservice's JSON was expected",
                               response)
        return PrestaResponse(parse_json_body(response), status, version)

    def _make(self, kind: type[ShopError], response: requests.Response, endpoint: str,
              message: str, code: str | None = None) -> ShopError:
        return self.transport.error(kind, message, response, endpoint=endpoint, code=code)

    def _refused(self, response: requests.Response, endpoint: str,
                 errors: list[tuple[int, str]]) -> ShopError:
        text = "; ".join(f"{message} (code {code})" for code, message in errors)
        return self._make(ShopRequestError, response, endpoint,
                          f"the Webservice refused the request: {_short(text)}",
                          code=str(errors[0][0]))

    def _error(self, response: requests.Response, endpoint: str) -> ShopError:
        """The typed error for a 4xx answer (never retried)."""
        status = response.status_code
        errors = webservice_errors(response)
        codes = {code for code, _ in errors}
        first = str(errors[0][0]) if errors else None
        text = "; ".join(message for _, message in errors)
        if status == 401 and not errors:
            return self._make(AuthenticationError, response, endpoint,
                              "no Webservice key reached the shop (401 without a Webservice "
                              "answer): if PHP runs as CGI/FastCGI the host drops the "
                              "Authorization header; set query_string_auth = true to send the "
                              "key as ws_key")
        if codes & _AUTH_CODES:
            return self._make(AuthenticationError, response, endpoint,
                              f"the shop refused the Webservice key: {_short(text)}; check it "
                              "in Advanced Parameters > Webservice (32 characters, enabled)",
                              code=first)
        if _RESOURCE_NOT_ALLOWED in codes:
            return self._make(PermissionDenied, response, endpoint,
                              f"{_short(text)}: tick this resource for the key in Advanced "
                              "Parameters > Webservice", code=first)
        if _METHOD_NOT_ALLOWED in codes:
            return self._make(PermissionDenied, response, endpoint,
                              f"{_short(text)}: the key is read-only for it; allow PUT on "
                              "customers and POST on groups for write-back", code=first)
        if not errors and looks_html(response):
            return self._make(NotAShopAPI, response, endpoint,
                              "an HTML page where the PrestaShop Webservice was expected: is "
                              "this the shop's address, with friendly URLs (/api/) working?")
        if status == 404 and not response.text.strip():
            return self._make(ShopRequestError, response, endpoint, "no such record")
        if errors:
            return self._make(ShopRequestError, response, endpoint,
                              f"the Webservice refused the request: {_short(text)}", code=first)
        return self._make(ShopRequestError, response, endpoint,
                          response.reason or "request refused")


def _failure_detail(response: requests.Response) -> tuple[str | None, str]:
    errors = webservice_errors(response)
    return (str(errors[0][0]) if errors else None), "; ".join(m for _, m in errors)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."



