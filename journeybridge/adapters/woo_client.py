"""The HTTP side of the WooCommerce adapter: signed requests through a pooled session,
permalink detection, and one table that turns every answer into data or a typed error.

Signing uses the ``woocommerce`` package: OAuth 1.0a (``woocommerce.oauth.OAuth``) over plain
HTTP, Basic auth (or query-string keys where a server strips the Authorization header) over
HTTPS, exactly as its ``API`` class decides. Unlike ``API``, which opens a new connection for
every call, requests go through one ``requests.Session`` per shop with a connection pool sized
to the page concurrency.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

import requests
from woocommerce.oauth import OAuth

from journeybridge.adapters.http import (
    RETRY_STATUSES,
    BadBodyError,
    RetryableStatusError,
    RetryPolicy,
    Transport,
    TransportClient,
    looks_html,
    parse_json_body,
    redact,
)
from journeybridge.errors import (
    AuthenticationError,
    NotAShopAPI,
    PermissionDenied,
    PlatformMissing,
    ShopError,
    ShopRequestError,
)

__all__ = ["WooClient", "WooResponse"]

log = logging.getLogger("journeybridge.woocommerce")

USER_AGENT = "journeybridge/0.1 (+WooCommerce REST API client)"
NOT_API_HINT = ("is the shop URL right, and is nothing (a security plugin, a PHP error) "
                "printing into the answer?")


class _OAuth(OAuth):  # type: ignore[misc]
    """The ``woocommerce`` package's OAuth 1.0a signer, with WooCommerce's own parameter
    encoding: the server encodes keys and values like PHP's ``rawurlencode`` (``/`` included),
    the package leaves ``/`` alone, so any value with a slash (``rest_route=/wc/v3/...``) would
    be refused as "Invalid signature"."""

    @staticmethod
    def normalize_parameters(params: dict[str, Any]) -> dict[str, str]:
        normalized: dict[str, str] = {}
        for key, value in (params or {}).items():
            if isinstance(value, bool):
                value = "1" if value else ""
            text_key = quote(unquote(str(key)), safe="-_.~").replace("%", "%25")
            normalized[text_key] = quote(unquote(str(value)), safe="-_.~").replace("%", "%25")
        return normalized


@dataclass(frozen=True)
class WooResponse:
    """A successful answer: parsed JSON and the headers that matter."""

    data: Any
    status: int
    total: int | None
    total_pages: int | None


class WooClient(TransportClient):
    """Requests to one WooCommerce shop's ``wc/v3`` API, sent through one
    :class:`~journeybridge.adapters.http.Transport`. Thread-safe.

    ``rest_route`` None means: detect on first use whether the shop has pretty permalinks
    (``/wp-json/``) or needs ``?rest_route=``.
    """

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        pool_size: int = 4,
        verify_ssl: bool = True,
        query_string_auth: bool = False,
        rest_route: bool | None = None,
        version: str = "wc/v3",
    ) -> None:
        self.transport = Transport(url, user_agent=USER_AGENT, timeout=timeout, retry=retry,
                                   pool_size=pool_size, verify_ssl=verify_ssl,
                                   secrets=(consumer_key, consumer_secret),
                                   headers={"Accept": "application/json"},
                                   not_api_hint=NOT_API_HINT, failure_detail=_failure_detail)
        self.url = self.transport.url
        self._key = consumer_key
        self._secret = consumer_secret
        self.query_string_auth = query_string_auth
        self.version = version
        self._rest_route = rest_route
        self._detect_lock = threading.Lock()
        self._index: dict[str, Any] | None = None

    @property
    def is_ssl(self) -> bool:
        """True for an https shop URL (Basic auth), False for http (OAuth 1.0a)."""
        return self.url.startswith("https://")

    # -- addressing -----------------------------------------------------------------------

    def _build(self, method: str, endpoint: str, params: Mapping[str, Any]) -> tuple[str, Any]:
        query = {k: _param(v) for k, v in params.items() if v is not None}
        auth = None
        if self._rest_route:
            # WooCommerce signs the home URL with the request's path appended; for "/?rest_route="
            # that path is empty, so the signed base has no trailing slash.
            query = {"rest_route": f"/{self.version}/{endpoint}", **query}
            base = self.url
        else:
            base = f"{self.url}/wp-json/{self.version}/{endpoint}"
        if self.is_ssl and not self.query_string_auth:
            auth = (self._key, self._secret)
            url = f"{base}?{urlencode(query)}" if query else base
        elif self.is_ssl:
            query.update({"consumer_key": self._key, "consumer_secret": self._secret})
            url = f"{base}?{urlencode(query)}"
        else:
            unsigned = f"{base}?{urlencode(query)}" if query else base
            url = _OAuth(url=unsigned, consumer_key=self._key, consumer_secret=self._secret,
                        version=self.version, method=method,
                        oauth_timestamp=int(time.time())).get_oauth_url()
        return url, auth

    def detect_permalinks(self) -> bool:
        """Find out (once) whether the shop answers on ``/wp-json/``; when it does not but
        ``?rest_route=/`` works, switch to that form. Returns True for ``?rest_route=``.
        Raises NotAShopAPI or ShopUnreachable when neither answers like WordPress."""
        with self._detect_lock:
            if self._rest_route is not None:
                return self._rest_route
            for rest_route, probe in ((False, f"{self.url}/wp-json/"),
                                      (True, f"{self.url}/?rest_route=/")):
                endpoint = probe.removeprefix(self.url)
                response = self.transport.send("GET", f"GET {endpoint}", _probe_outcome,
                                               url=probe)
                if _is_wp_index(response):
                    index = _json_or_none(response)
                    self._index = index if isinstance(index, dict) else {}
                    namespaces = self._index.get("namespaces")
                    if isinstance(namespaces, list) and self.version not in namespaces:
                        raise self.transport.error(
                            PlatformMissing,
                            f"WordPress answers but has no {self.version} API: is WooCommerce "
                            "installed and active?", response, endpoint=endpoint)
                    self._rest_route = rest_route
                    if rest_route:
                        log.info("%s has no pretty permalinks; using ?rest_route=", self.url)
                    return rest_route
            raise NotAShopAPI(
                "no WordPress REST API here (neither /wp-json/ nor ?rest_route=/ answered "
                "with JSON): is this the WordPress site's address?",
                shop_url=self.url, endpoint="/wp-json/",
            )

    def site_index(self) -> dict[str, Any]:
        """The WordPress REST index (``name``, ``timezone_string``, ``gmt_offset``,
        ``namespaces``...), read once (the permalink probe reads it anyway); ``{}`` when the
        answer is not the index. Raises the transport's typed errors."""
        self.detect_permalinks()
        if self._index is None:
            endpoint = "/?rest_route=/" if self._rest_route else "/wp-json/"
            response = self.transport.send("GET", f"GET {endpoint}", _probe_outcome,
                                           url=f"{self.url}{endpoint}")
            index = _json_or_none(response) if _is_wp_index(response) else None
            self._index = index if isinstance(index, dict) else {}
        return self._index

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> WooResponse:
        """Send one request with the retry policy; return the parsed answer or raise the
        typed error for it (see :mod:`journeybridge.errors`)."""
        if self._rest_route is None:
            self.detect_permalinks()
        auth = self._build(method, endpoint, {})[1]
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        return self.transport.send(
            method, f"{method} {endpoint}", lambda response: self._outcome(response, endpoint),
            url=lambda: self._build(method, endpoint, params or {})[0],
            data=data, headers=headers, auth=auth)

    # -- the outcome table ------------------------------------------------------------------

    def _outcome(self, response: requests.Response, endpoint: str) -> WooResponse:
        """Data for a 2xx answer with JSON; RetryableStatusError for 429/5xx and BadBodyError
        for a body that is not JSON (both retried); the typed error of :meth:`_error` else."""
        if response.status_code in RETRY_STATUSES:
            raise RetryableStatusError(response)
        if response.status_code >= 400:
            raise self._error(response, endpoint)
        return WooResponse(
            data=parse_json_body(response),
            status=response.status_code,
            total=_int_header(response, "X-WP-Total"),
            total_pages=_int_header(response, "X-WP-TotalPages"),
        )

    def _error(self, response: requests.Response, endpoint: str) -> ShopError:
        """The typed error for a 4xx answer (never retried)."""
        where = f"{response.request.method} {endpoint}"
        status = response.status_code
        code = _error_code(response)
        message = _error_text(response)

        def make(kind: type[ShopError], text: str) -> ShopError:
            return self.transport.error(kind, text, response, endpoint=where, code=code)

        if code is None and looks_html(response):
            return make(NotAShopAPI, "an HTML page where the WooCommerce API was expected: "
                                     "is this the WordPress site's address?")
        if code == "rest_no_route":
            return make(PlatformMissing, "WordPress answers but this WooCommerce API route "
                                         "does not exist: is WooCommerce installed and active?")
        if status == 401 and message and "write permission" in message.lower():
            return make(PermissionDenied, "the API key is read-only; give it read/write "
                                          "permission in WooCommerce > Settings > Advanced > "
                                          "REST API")
        if code == "woocommerce_rest_authentication_error":
            return make(AuthenticationError, f"the shop refused the API key: {message}")
        if status == 401 and self._rest_route:
            return make(AuthenticationError,
                        f"{message or 'not authenticated'}: this shop has plain permalinks, and "
                        "WooCommerce before 11.1 ignores API keys on ?rest_route= requests "
                        "(woocommerce#41191); switch Settings > Permalinks to any other "
                        "structure")
        if status == 401:
            hint = ("the request arrived unauthenticated; over https this usually means a proxy "
                    "hides HTTPS from WordPress (try query_string_auth)" if self.is_ssl else
                    "the request arrived unauthenticated")
            return make(AuthenticationError, f"{message or 'not authenticated'}: {hint}")
        if status == 403:
            return make(PermissionDenied, message or "forbidden")
        return make(ShopRequestError, message or response.reason or "request refused")


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return value


def _int_header(response: requests.Response, name: str) -> int | None:
    """A count header as an int; None when absent or not plain ASCII digits (``²``, ``-1``,
    ``5 pages``, a number of more than 12 digits): unknown, never a crash."""
    value = (response.headers.get(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None


def _probe_outcome(response: requests.Response) -> requests.Response:
    """A probe's answer as it is, 429/5xx retried."""
    if response.status_code in RETRY_STATUSES:
        raise RetryableStatusError(response)
    return response


def _failure_detail(response: requests.Response) -> tuple[str | None, str]:
    return _error_code(response), _error_text(response)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return parse_json_body(response)
    except BadBodyError:
        return None


def _error_code(response: requests.Response) -> str | None:
    data = _json_or_none(response)
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return str(data["code"])
    return None


def _error_text(response: requests.Response) -> str:
    data = _json_or_none(response)
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return redact(str(data["message"]))
    return ""


def _is_wp_index(response: requests.Response) -> bool:
    if response.status_code != 200:
        return False
    data = _json_or_none(response)
    return isinstance(data, dict) and ("namespaces" in data or "routes" in data)



