"""The population served as the WooCommerce REST API (wc/v3), as a real 10.0.2 shop answers.

Everything here was checked against real exchanges (tests/fixtures/woocommerce-real/): the
order of checks (OAuth, key permissions, route, parameter validation, capability, handler),
the error codes and messages, the paging headers, field names, key order and JSON types.

Routes: ``GET customers``, ``GET/PUT customers/{id}``, ``POST customers/batch``, ``GET orders``,
``GET/PUT orders/{id}``, ``POST orders/batch``, ``GET orders/{id}/refunds``,
``GET products/reviews``, ``GET products/reviews/{id}``, ``OPTIONS`` on each, the REST index
``/wp-json/`` and the ``wc/v3`` namespace index. Both ``/wp-json/...`` and ``?rest_route=...``
address them; with ``pretty_permalinks=False`` only the latter does.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus, unquote

import numpy as np
import numpy.typing as npt

from .faults import Faults
from .oauth1 import (
    OAUTH_PARAMS,
    PhpParams,
    PhpValue,
    parse_authorization_header,
    signature_matches,
    timestamp_ok,
)
from .population import Population
from .records import (
    FIRST_ORDER_ID,
    FIRST_REVIEW_ID,
    SHOP_TIMEZONE,
    STATUSES,
    Customer,
    MetaEntry,
    Order,
    OrderStatus,
    Refund,
    Review,
    Role,
)
from .wire import HttpRequest, HttpResponse, as_text, parse_php_query

JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
EXPOSE = "X-WP-Total, X-WP-TotalPages, Link"
WC_VERSION = "10.0.2"
ORDER_QUERY_STATUSES = ("any", "trash", "auto-draft", "pending", "processing", "on-hold",
                        "completed", "cancelled", "refunded", "failed", "checkout-draft")
ORDER_WRITE_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled",
                        "refunded", "failed", "checkout-draft")
CUSTOMER_ROLES = ("all", "administrator", "editor", "author", "contributor", "subscriber",
                  "customer", "shop_manager")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([zZ]|[+-]\d{2}(:?\d{2})?)?$")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


class ApiError(Exception):
    """A WordPress-style error answer: ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body WordPress sends for this error."""
        data: dict[str, Any] = {"status": self.status}
        data.update(self.extra)
        return {"code": self.code, "message": self.message, "data": data}


def utc_from_naive(value: datetime, *, is_gmt: bool) -> datetime:
    """Read a zone-less datetime as UTC (``is_gmt``) or as shop-local time, return aware UTC."""
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    if is_gmt:
        return value.replace(tzinfo=timezone.utc)
    return value.replace(tzinfo=SHOP_TIMEZONE).astimezone(timezone.utc)


def wp_list(items: Sequence[str]) -> str:
    """Join like WordPress ``wp_sprintf_l``: ``a and b``, ``a, b, and c``."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def php_urlencode(text: str) -> str:
    """Encode like PHP ``urlencode`` (spaces as ``+``, ``~`` encoded)."""
    return quote_plus(text, safe="").replace("~", "%7E")


def build_query(params: Mapping[str, PhpValue]) -> str:
    """Serialise PHP-shaped parameters like ``http_build_query`` / ``add_query_arg``."""
    parts: list[str] = []
    for key, value in params.items():
        if isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, str):
                    parts.append(f"{php_urlencode(f'{key}[{i}]')}={php_urlencode(v)}")
        elif isinstance(value, dict):
            for sub, v in value.items():
                if isinstance(v, str):
                    parts.append(f"{php_urlencode(f'{key}[{sub}]')}={php_urlencode(v)}")
        else:
            parts.append(f"{php_urlencode(key)}={php_urlencode(value)}")
    return "&".join(parts)


def wp_json(data: Any) -> bytes:
    """Encode like PHP ``json_encode``: ASCII only, escaped slashes, no spaces."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def filter_fields(data: Any, fields: str) -> Any:
    """Apply WordPress ``_fields`` (comma list, nested names like ``billing.email``).

    The response keeps its own key order; ``_links`` is dropped unless asked for.
    """
    tree: dict[str, Any] = {}
    for raw in fields.split(","):
        name = raw.strip()
        if not name:
            continue
        node = tree
        parts = name.split(".")
        for i, part in enumerate(parts):
            if node.get(part) is True:
                break
            if i == len(parts) - 1:
                node[part] = True
            else:
                node = node.setdefault(part, {})

    def apply(obj: Any, spec: dict[str, Any]) -> Any:
        if not isinstance(obj, dict):
            return obj
        out = {}
        for key, value in obj.items():
            if key in spec:
                sub = spec[key]
                out[key] = value if sub is True else apply(value, sub)
        return out

    if isinstance(data, list):
        return [apply(item, tree) for item in data]
    return apply(data, tree)


def _fmt(dt: datetime | None, tz: Any) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(tz).replace(tzinfo=None, microsecond=0).isoformat()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _avatar(email: str, size: int) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s={size}&d=mm&r=g"


# --------------------------------------------------------------------------------------------
# Parameter validation (WordPress rest_validate_request_arg, as far as the shop uses it)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One declared route argument: name, kind and constraints."""

    name: str
    kind: str  # int, enum, date, bool, int_list, str, enum_list, str_list
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    description: str = ""


def _parse_list(value: PhpValue) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return [v for v in re.split(r"[\s,]+", value) if v]


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None


def parse_wp_date(text: str) -> datetime | None:
    """A naive or aware datetime from an RFC 3339-ish text as WordPress accepts it, else None."""
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        base = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]))
    except ValueError:
        return None
    zone = m[8]
    if not zone:
        return base
    if zone in ("z", "Z"):
        return base.replace(tzinfo=timezone.utc)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    from datetime import timedelta

    return base.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))


def validate(args: Sequence[Arg], params: PhpParams) -> dict[str, Any]:
    """Check and coerce ``params`` against ``args``; raise the WordPress 400 on failure."""
    values: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    details: dict[str, Any] = {}

    def fail(name: str, code: str, message: str) -> None:
        invalid[name] = message
        details[name] = {"code": code, "message": message, "data": None}

    for arg in args:
        raw = params.get(arg.name)
        if raw is None:
            values[arg.name] = arg.default
            continue
        name = arg.name
        if arg.kind == "int":
            text = as_text(raw)
            if text is None or not _is_int(text):
                fail(name, "rest_invalid_type", f"{name} is not of type integer.")
                continue
            number = int(text)
            if arg.minimum is not None and arg.maximum is not None and not (
                    arg.minimum <= number <= arg.maximum):
                fail(name, "rest_out_of_bounds", f"{name} must be between {arg.minimum} "
                     f"(inclusive) and {arg.maximum} (inclusive)")
                continue
            if arg.minimum is not None and number < arg.minimum:
                fail(name, "rest_out_of_bounds",
                     f"{name} must be greater than or equal to {arg.minimum}")
                continue
            values[name] = number
        elif arg.kind == "enum":
            text = as_text(raw)
            if text is None or text not in arg.enum:
                fail(name, "rest_not_in_enum", f"{name} is not one of {wp_list(arg.enum)}.")
                continue
            values[name] = text
        elif arg.kind == "enum_list":
            items = _parse_list(raw)
            bad = next((i for i, v in enumerate(items) if v not in arg.enum), None)
            if bad is not None:
                fail(name, "rest_not_in_enum",
                     f"{name}[{bad}] is not one of {wp_list(arg.enum)}.")
                continue
            values[name] = items
        elif arg.kind == "int_list":
            items = _parse_list(raw)
            bad = next((i for i, v in enumerate(items) if not _is_int(v)), None)
            if bad is not None:
                fail(name, "rest_invalid_type", f"{name}[{bad}] is not of type integer.")
                continue
            values[name] = [int(v) for v in items]
        elif arg.kind == "date":
            text = as_text(raw)
            parsed = parse_wp_date(text) if text is not None else None
            if parsed is None:
                fail(name, "rest_invalid_date", "Invalid date.")
                continue
            values[name] = parsed
        elif arg.kind == "bool":
            text = as_text(raw)
            truthy = {"true": True, "1": True, "false": False, "0": False, "": False}
            if text is None or text.lower() not in truthy:
                fail(name, "rest_invalid_type", f"{name} is not of type boolean.")
                continue
            values[name] = truthy[text.lower()]
        elif arg.kind == "str_list":
            values[name] = _parse_list(raw)
        else:
            text = as_text(raw)
            if text is None:
                fail(name, "rest_invalid_type", f"{name} is not of type string.")
                continue
            values[name] = text
    if invalid:
        raise ApiError(400, "rest_invalid_param",
                       f"Invalid parameter(s): {', '.join(invalid)}",
                       {"params": invalid, "details": details})
    return values


def _common(order_default: str, orderby: tuple[str, ...], orderby_default: str) -> list[Arg]:
    return [
        Arg("context", "enum", "view", enum=("view", "edit"),
            description="Scope under which the request is made; determines fields present in "
                        "response."),
        Arg("page", "int", 1, minimum=1, description="Current page of the collection."),
        Arg("per_page", "int", 10, minimum=1, maximum=100,
            description="Maximum number of items to be returned in result set."),
        Arg("search", "str", description="Limit results to those matching a string."),
        Arg("after", "date", description="Limit response to resources published after a given "
                                         "ISO8601 compliant date."),
        Arg("before", "date", description="Limit response to resources published before a "
                                          "given ISO8601 compliant date."),
        Arg("modified_after", "date", description="Limit response to resources modified after "
                                                  "a given ISO8601 compliant date."),
        Arg("modified_before", "date", description="Limit response to resources modified "
                                                   "before a given ISO8601 compliant date."),
        Arg("dates_are_gmt", "bool", False, description="Whether to consider GMT post dates "
                                                        "when limiting response by published "
                                                        "or modified date."),
        Arg("exclude", "int_list", [], description="Ensure result set excludes specific IDs."),
        Arg("include", "int_list", [], description="Limit result set to specific ids."),
        Arg("offset", "int", description="Offset the result set by a specific number of items."),
        Arg("order", "enum", order_default, enum=("asc", "desc"),
            description="Order sort attribute ascending or descending."),
        Arg("orderby", "enum", orderby_default, enum=orderby,
            description="Sort collection by object attribute."),
        Arg("parent", "int_list", [], description="Limit result set to those of particular "
                                                  "parent IDs."),
        Arg("parent_exclude", "int_list", [], description="Limit result set to all items "
                                                          "except those of a particular "
                                                          "parent ID."),
    ]


ORDER_ARGS: tuple[Arg, ...] = (
    *_common("desc", ("date", "id", "include", "title", "slug", "modified"), "date"),
    Arg("status", "enum_list", ["any"], enum=ORDER_QUERY_STATUSES,
        description="Limit result set to orders which have specific statuses."),
    Arg("customer", "int", description="Limit result set to orders assigned a specific "
                                       "customer."),
    Arg("product", "int", description="Limit result set to orders assigned a specific "
                                      "product."),
    Arg("dp", "int", 2, description="Number of decimal points to use in each resource."),
    Arg("order_item_display_meta", "bool", False,
        description="Only show meta which is meant to be displayed for an order."),
    Arg("include_meta", "str_list", [], description="Limit meta_data to specific keys."),
    Arg("exclude_meta", "str_list", [], description="Ensure meta_data excludes specific keys."),
)
REFUND_ARGS: tuple[Arg, ...] = (
    *_common("desc", ("date", "id", "include", "title", "slug", "modified"), "date"),
    Arg("dp", "int", 2, description="Number of decimal points to use in each resource."),
)
CUSTOMER_ARGS: tuple[Arg, ...] = (
    *(a for a in _common("asc", ("id", "include", "name", "registered_date"), "name")
      if a.name not in ("after", "before", "modified_after", "modified_before",
                        "dates_are_gmt", "parent", "parent_exclude")),
    Arg("email", "str", description="Limit result set to resources with a specific email."),
    Arg("role", "enum", "customer", enum=CUSTOMER_ROLES,
        description="Limit result set to resources with a specific role."),
)
REVIEW_ARGS: tuple[Arg, ...] = (
    *(a for a in _common("desc", ("date", "date_gmt", "id", "include", "product"), "date_gmt")
      if a.name not in ("modified_after", "modified_before", "dates_are_gmt", "parent",
                        "parent_exclude")),
    Arg("reviewer", "int_list", [], description="Limit result set to reviews assigned to "
                                                "specific user IDs."),
    Arg("reviewer_exclude", "int_list", [], description="Ensure result set excludes reviews "
                                                        "assigned to specific user IDs."),
    Arg("reviewer_email", "str", description="Limit result set to that from a specific author "
                                             "email."),
    Arg("product", "int_list", [], description="Limit result set to reviews assigned to "
                                               "specific product IDs."),
    Arg("status", "enum", "approved", enum=("all", "hold", "approved", "spam", "trash"),
        description="Limit result set to reviews assigned a specific status."),
)
SINGLE_ARGS: tuple[Arg, ...] = (
    Arg("context", "enum", "view", enum=("view", "edit"),
        description="Scope under which the request is made; determines fields present in "
                    "response."),
)


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One method group of a route: its methods, handler, declared args and denial message."""

    methods: tuple[str, ...]
    handler: str
    args: tuple[Arg, ...]
    deny_code: str
    deny_message: str


@dataclass(frozen=True)
class Route:
    """A registered route pattern and its endpoints."""

    pattern: re.Pattern[str]
    template: str
    endpoints: tuple[Endpoint, ...]

    @property
    def methods(self) -> list[str]:
        """Every method the route answers, in registration order."""
        return [m for e in self.endpoints for m in e.methods]


_LIST = ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
_VIEW = ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
_CREATE = ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
_EDIT = ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
_DELETE = ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.")
_BATCH = ("woocommerce_rest_cannot_batch",
          "Sorry, you are not allowed to batch manipulate this resource.")
_EDITABLE = ("POST", "PUT", "PATCH")


def _route(template: str, *endpoints: tuple[tuple[str, ...], str, tuple[Arg, ...],
                                             tuple[str, str]]) -> Route:
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[\\d]+)", template) + "$"
    return Route(re.compile(regex), template, tuple(
        Endpoint(m, h, a, d[0], d[1]) for m, h, a, d in endpoints))


ROUTES: tuple[Route, ...] = (
    _route("/wc/v3/customers", (("GET",), "list_customers", CUSTOMER_ARGS, _LIST),
           (("POST",), "unsupported", (), _CREATE)),
    _route("/wc/v3/customers/batch", (_EDITABLE, "batch_customers", (), _BATCH)),
    _route("/wc/v3/customers/{id}", (("GET",), "get_customer", SINGLE_ARGS, _VIEW),
           (_EDITABLE, "update_customer", (), _EDIT),
           (("DELETE",), "unsupported", (), _DELETE)),
    _route("/wc/v3/orders", (("GET",), "list_orders", ORDER_ARGS, _LIST),
           (("POST",), "unsupported", (), _CREATE)),
    _route("/wc/v3/orders/batch", (_EDITABLE, "batch_orders", (), _BATCH)),
    _route("/wc/v3/orders/{id}", (("GET",), "get_order", SINGLE_ARGS, _VIEW),
           (_EDITABLE, "update_order", (), _EDIT),
           (("DELETE",), "unsupported", (), _DELETE)),
    _route("/wc/v3/orders/{order_id}/refunds", (("GET",), "list_refunds", REFUND_ARGS, _LIST),
           (("POST",), "unsupported", (), _CREATE)),
    _route("/wc/v3/products/reviews", (("GET",), "list_reviews", REVIEW_ARGS, _LIST),
           (("POST",), "unsupported", (), _CREATE)),
    _route("/wc/v3/products/reviews/{id}", (("GET",), "get_review", SINGLE_ARGS, _VIEW),
           (_EDITABLE, "unsupported", (), _EDIT), (("DELETE",), "unsupported", (), _DELETE)),
)


@dataclass
class _Ctx:
    """Per-request context handed to handlers."""

    request: HttpRequest
    params: PhpParams
    route_path: str
    rest_base: str
    site: str
    values: dict[str, Any]
    match: dict[str, str]
    method: str


@dataclass
class _Answer:
    status: int
    body: Any
    paging: tuple[int, int, str] | None = None  # total, pages, link header
    total_only: tuple[int, int] | None = None


# --------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------


class WooApi:
    """The WooCommerce side of the sandbox: routes requests and renders the population.

    ``faults`` only contributes ``malformed_*_ids`` here; transport faults are the server's.
    """

    name = "woocommerce"

    def __init__(self, population: Population, credentials: WooCredentials, *,
                 pretty_permalinks: bool = True, faults: Faults | None = None,
                 site_title: str = "Journeybridge Sandbox Shop") -> None:
        self.population = population
        self.credentials = credentials
        self.pretty_permalinks = pretty_permalinks
        self.faults = faults or Faults()
        self.site_title = site_title
        self._keys = {credentials.key: (credentials.secret, "read_write"),
                      credentials.ro_key: (credentials.ro_secret, "read")}
        self._cache: OrderedDict[tuple[Any, ...], npt.NDArray[np.int64]] = OrderedDict()
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------------ entry point
    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a request addressed to the WordPress site, or None for other paths."""
        params = parse_php_query(request.query)
        path = request.path
        rest_route = as_text(params.get("rest_route"))
        if rest_route is not None and path in ("/", "", "/index.php"):
            return self._rest(request, params, rest_route or "/", via_query=True)
        if path == "/wp-json" or path.startswith("/wp-json/"):
            if not self.pretty_permalinks:
                return self._html(404, "Page not found", request.base_url)
            route = unquote(path[len("/wp-json"):]) or "/"
            return self._rest(request, params, route, via_query=False)
        if path in ("/", "", "/index.php"):
            return self._html(200, self.site_title, request.base_url)
        if path.startswith(("/wp-", "/product/", "/checkout/", "/feed")):
            return self._html(404, "Page not found", request.base_url)
        return None

    def rest_url(self, site: str, route: str) -> str:
        """The URL WordPress would give for a REST route on this site."""
        route = "/" + route.lstrip("/")
        if self.pretty_permalinks:
            return f"{site}/wp-json{route}"
        return f"{site}/?rest_route={route}"

    # ------------------------------------------------------------------ HTML pages
    def _html(self, status: int, title: str, site: str) -> HttpResponse:
        body = (
            "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n\t<meta charset=\"UTF-8\" />\n"
            f"\t<title>{title} &#8211; {self.site_title}</title>\n"
            f"<link rel=\"https://api.w.org/\" href=\"{site}/wp-json/\" />\n</head>\n"
            f"<body class=\"home\">\n<h1>{title}</h1>\n<p>Coffee, beans and more.</p>\n"
            "</body>\n</html>\n"
        )
        return HttpResponse(status, [("Content-Type", HTML_TYPE),
                                     ("Link", f"<{site}/wp-json/>; rel=\"https://api.w.org/\"")],
                            body.encode())

    # ------------------------------------------------------------------ REST dispatch
    def _respond(self, status: int, body: Any, site: str, *, allow: str | None = None,
                 paging: tuple[int, int, str] | None = None,
                 extra: Sequence[tuple[str, str]] = ()) -> HttpResponse:
        headers = [("Content-Type", JSON_TYPE)]
        api_link = f"<{self.rest_url(site, '/')}>; rel=\"https://api.w.org/\""
        if not self.pretty_permalinks:
            api_link = f"<{site}/index.php?rest_route=/>; rel=\"https://api.w.org/\""
        if paging is not None and paging[2]:
            headers += [("Access-Control-Expose-Headers", EXPOSE), ("X-WP-Total", str(paging[0])),
                        ("X-WP-TotalPages", str(paging[1])), ("Link", paging[2])]
        else:
            headers += [("Link", api_link), ("Access-Control-Expose-Headers", EXPOSE)]
            if paging is not None:
                headers += [("X-WP-Total", str(paging[0])), ("X-WP-TotalPages", str(paging[1]))]
        if allow:
            headers.append(("Allow", allow))
        headers += [("X-Robots-Tag", "noindex"), ("X-Content-Type-Options", "nosniff"),
                    ("Access-Control-Allow-Headers",
                     "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type")]
        headers.extend(extra)
        return HttpResponse(status, headers, wp_json(body))

    def _error(self, err: ApiError, site: str, allow: str | None = None) -> HttpResponse:
        return self._respond(err.status, err.body(), site, allow=allow)

    def _rest(self, request: HttpRequest, params: PhpParams, route: str, *,
              via_query: bool) -> HttpResponse:
        site = request.base_url
        route = "/" + route.strip("/") if route.strip("/") else "/"
        method = request.method.upper()
        if route == "/":
            return self._respond(200, self._index(site), site)
        if not (route.startswith("/wc/") or route.startswith("/wc-")):
            return self._error(ApiError(404, "rest_no_route",
                                        "No route was found matching the URL and request "
                                        "method."), site)
        try:
            permissions = self._authenticate(request, params, via_query)
        except ApiError as err:
            return self._error(err, site)
        if permissions == "read" and method in _WRITE_METHODS:
            return self._error(ApiError(401, "woocommerce_rest_authentication_error",
                                        "The API key provided does not have write "
                                        "permissions."), site)
        if route == "/wc/v3":
            return self._respond(200, self._namespace_index(site), site)
        found = self._match(route)
        if found is None:
            return self._error(ApiError(404, "rest_no_route",
                                        "No route was found matching the URL and request "
                                        "method."), site)
        rdef, match = found
        allow = ", ".join(rdef.methods) if permissions else None
        if method == "OPTIONS":
            return self._respond(200, self._options(rdef, route, site), site, allow=allow)
        endpoint = next((e for e in rdef.endpoints if method in e.methods), None)
        if endpoint is None:
            return self._error(ApiError(404, "rest_no_route",
                                        "No route was found matching the URL and request "
                                        "method."), site)
        try:
            values = validate(endpoint.args, params)
        except ApiError as err:
            return self._error(err, site, allow)
        if not permissions:
            return self._error(ApiError(401, endpoint.deny_code, endpoint.deny_message), site)
        ctx = _Ctx(request, params, route, self.rest_url(site, route), site, values, match, method)
        try:
            answer: _Answer = getattr(self, "_h_" + endpoint.handler)(ctx)
        except ApiError as err:
            return self._error(err, site, allow)
        body = answer.body
        fields = as_text(params.get("_fields"))
        if fields:
            body = filter_fields(body, fields)
        return self._respond(answer.status, body, site, allow=allow, paging=answer.paging)

    def _match(self, route: str) -> tuple[Route, dict[str, str]] | None:
        for rdef in ROUTES:
            m = rdef.pattern.match(route)
            if m:
                return rdef, m.groupdict()
        return None

    def _authenticate(self, request: HttpRequest, params: PhpParams,
                      via_query: bool) -> str | None:
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
        entry = self._keys.get(key)
        if entry is None:
            raise ApiError(401, "woocommerce_rest_authentication_error",
                           "Consumer key is invalid.")
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

    # ------------------------------------------------------------------ discovery
    def _index(self, site: str) -> dict[str, Any]:
        return {
            "name": self.site_title, "description": "", "url": site, "home": site,
            "gmt_offset": "1", "timezone_string": "Europe/Amsterdam", "page_for_posts": 0,
            "page_on_front": 0, "show_on_front": "posts",
            "namespaces": ["oembed/1.0", "wc/store", "wc/store/v1", "wc/v1", "wc/v2", "wc/v3",
                           "wc-analytics", "wc-admin", "wp/v2", "wp-site-health/v1"],
            "authentication": [], "routes": {},
            "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
        }

    def _namespace_index(self, site: str) -> dict[str, Any]:
        routes = {}
        for rdef in ROUTES:
            routes[rdef.template] = {
                "namespace": "wc/v3", "methods": rdef.methods,
                "endpoints": [{"methods": list(e.methods), "args": {}} for e in rdef.endpoints],
            }
        return {"namespace": "wc/v3", "routes": routes,
                "_links": {"up": [{"href": self.rest_url(site, "/")}]}}

    def _options(self, rdef: Route, route: str, site: str) -> dict[str, Any]:
        endpoints = []
        for e in rdef.endpoints:
            args: dict[str, Any] = {}
            for a in e.args:
                spec: dict[str, Any] = {"description": a.description,
                                        "type": {"int": "integer", "enum": "string",
                                                 "date": "string", "bool": "boolean",
                                                 "int_list": "array", "enum_list": "array",
                                                 "str_list": "array"}.get(a.kind, "string"),
                                        "required": False}
                if a.kind == "date":
                    spec["format"] = "date-time"
                if a.default is not None:
                    spec["default"] = a.default
                if a.enum:
                    if a.kind == "enum_list":
                        spec["items"] = {"type": "string", "enum": list(a.enum)}
                    else:
                        spec["enum"] = list(a.enum)
                if a.minimum is not None:
                    spec["minimum"] = a.minimum
                if a.maximum is not None:
                    spec["maximum"] = a.maximum
                args[a.name] = spec
            endpoints.append({"methods": list(e.methods), "args": args})
        title = {"orders": "shop_order", "customers": "customer", "reviews": "product_review",
                 "refunds": "shop_order_refund", "batch": "batch"}
        last = [p for p in rdef.template.split("/") if p and not p.startswith("{")][-1]
        return {"namespace": "wc/v3", "methods": rdef.methods, "endpoints": endpoints,
                "schema": {"$schema": "http://json-schema.org/draft-04/schema#",
                           "title": title.get(last, last), "type": "object", "properties": {}},
                "_links": {"self": [{"href": self.rest_url(site, route)}]}}

    # ------------------------------------------------------------------ paging helpers
    def _cached(self, key: tuple[Any, ...],
                build: Callable[[], npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
        full = (*key, self.population.version, self.population.order_count_all)
        with self._cache_lock:
            hit = self._cache.get(full)
            if hit is not None:
                self._cache.move_to_end(full)
                return hit
        made = build()
        with self._cache_lock:
            self._cache[full] = made
            while len(self._cache) > 16:
                self._cache.popitem(last=False)
        return made

    def _page(self, ctx: _Ctx, selection: npt.NDArray[np.int64],
              link_extra: Callable[[PhpParams], PhpParams] | None = None,
              ) -> tuple[list[int], tuple[int, int, str]]:
        per_page = int(ctx.values["per_page"])
        page = int(ctx.values["page"])
        offset = ctx.values.get("offset")
        total = int(selection.size)
        start = int(offset) if offset is not None else (page - 1) * per_page
        start = max(start, 0)
        chunk = [int(x) for x in selection[start:start + per_page]]
        pages = math.ceil(total / per_page) if per_page else 0
        links = []
        query: PhpParams = {k: v for k, v in ctx.params.items() if k != "rest_route"} \
            if self.pretty_permalinks else dict(ctx.params)
        if link_extra is not None:
            query = link_extra(query)
        if page > 1:
            prev_page = min(page - 1, pages)
            links.append(f"<{self._link(ctx, query, prev_page)}>; rel=\"prev\"")
        if pages > page:
            links.append(f"<{self._link(ctx, query, page + 1)}>; rel=\"next\"")
        return chunk, (total, pages, ", ".join(links))

    def _link(self, ctx: _Ctx, query: PhpParams, page: int) -> str:
        q: PhpParams = dict(query)
        q["page"] = str(page)
        base = ctx.rest_base
        if not self.pretty_permalinks:
            q.pop("rest_route", None)
            q = {"rest_route": ctx.route_path, **q}
            base = f"{ctx.site}/"
        return f"{base}?{build_query(q)}"

    def _time_filter(self, values: Mapping[str, Any], name: str) -> int | None:
        value = values.get(name)
        if value is None:
            return None
        utc = utc_from_naive(value, is_gmt=bool(values.get("dates_are_gmt")))
        return int(utc.timestamp()) - self.population.origin_ts()

    @staticmethod
    def _sort(ids: npt.NDArray[np.int64], keys: npt.NDArray[Any] | None, desc: bool
              ) -> npt.NDArray[np.int64]:
        out = np.sort(ids) if keys is None else ids[np.lexsort((ids, keys))]
        return out[::-1].copy() if desc else out

    @staticmethod
    def _by_include(ids: npt.NDArray[np.int64], include: Sequence[int]) -> npt.NDArray[np.int64]:
        wanted = {int(x) for x in ids}
        seen: list[int] = []
        for x in include:
            if x in wanted and x not in seen:
                seen.append(x)
        return np.array(seen, dtype=np.int64)

    # ------------------------------------------------------------------ customers
    def _customer_json(self, c: Customer, site: str) -> dict[str, Any]:
        b, s = c.billing, c.shipping
        allow = ["GET", "POST", "PUT", "PATCH", *([] if c.id == 1 else ["DELETE"])]
        body: dict[str, Any] = {
            "id": c.id,
            "date_created": _fmt(c.date_created, SHOP_TIMEZONE),
            "date_created_gmt": _fmt(c.date_created, timezone.utc),
            "date_modified": _fmt(c.date_modified, SHOP_TIMEZONE),
            "date_modified_gmt": _fmt(c.date_modified, timezone.utc),
            "email": c.email, "first_name": c.first_name, "last_name": c.last_name,
            "role": c.role.value, "username": c.username,
            "billing": {"first_name": b.first_name, "last_name": b.last_name,
                        "company": b.company, "address_1": b.address_1,
                        "address_2": b.address_2, "city": b.city, "postcode": b.postcode,
                        "country": b.country, "state": b.state, "email": b.email,
                        "phone": b.phone},
            "shipping": {"first_name": s.first_name, "last_name": s.last_name,
                         "company": s.company, "address_1": s.address_1,
                         "address_2": s.address_2, "city": s.city, "postcode": s.postcode,
                         "country": s.country, "state": s.state, "phone": s.phone},
            "is_paying_customer": c.is_paying_customer,
            "avatar_url": _avatar(c.email, 96),
            "meta_data": [{"id": m.id, "key": m.key, "value": m.value} for m in c.meta_data
                          if not m.key.startswith("_")],
            "_links": {
                "self": [{"href": self.rest_url(site, f"/wc/v3/customers/{c.id}"),
                          "targetHints": {"allow": allow}}],
                "collection": [{"href": self.rest_url(site, "/wc/v3/customers")}],
            },
        }
        if c.id in self.faults.malformed_customer_ids:
            del body["id"]
        return body

    def _customer_selection(self, values: Mapping[str, Any]) -> npt.NDArray[np.int64]:
        pop = self.population
        roles, registered = pop.customer_index_arrays()
        ids = np.arange(1, pop.size + 1, dtype=np.int64)
        mask = np.ones(pop.size, dtype=bool)
        role = values["role"]
        if role != "all":
            try:
                code = [r.value for r in Role].index(role)
            except ValueError:
                code = -2
            mask &= roles == code
        if values["include"]:
            mask &= np.isin(ids, np.array(values["include"], dtype=np.int64))
        if values["exclude"]:
            mask &= ~np.isin(ids, np.array(values["exclude"], dtype=np.int64))
        email = values.get("email")
        if email is not None:
            found = pop.find_customer_by_email(email)
            only = np.zeros(pop.size, dtype=bool)
            if found is not None:
                only[found - 1] = True
            mask &= only
        search = values.get("search")
        if search:
            mask &= self._customer_search(search)
        orderby, desc = values["orderby"], values["order"] == "desc"
        if orderby == "include" and values["include"]:
            return self._by_include(ids[mask], values["include"])
        if orderby == "name":
            order = pop.customer_name_order().astype(np.int64)
            out = order[mask[order]] + 1
            return out[::-1].copy() if desc else out
        if orderby == "registered_date":
            return self._sort(ids[mask], registered[mask], desc)
        return self._sort(ids[mask], None, desc)

    def _customer_search(self, term: str) -> npt.NDArray[np.bool_]:
        pop = self.population
        needle = term.strip().strip("*").lower()
        mask = np.zeros(pop.size, dtype=bool)
        if needle.isdigit() and 1 <= int(needle) <= pop.size:
            mask[int(needle) - 1] = True
            return mask
        for i in range(pop.size):
            first, last, email, username = pop.person_names(i)
            if (needle in email.lower() or needle in username or needle in first.lower()
                    or needle in last.lower()):
                mask[i] = True
        return mask

    def _h_list_customers(self, ctx: _Ctx) -> _Answer:
        v = ctx.values
        key = ("customers", v["role"], tuple(v["include"]), tuple(v["exclude"]), v.get("email"),
               v.get("search"), v["orderby"], v["order"])
        selection = self._cached(key, lambda: self._customer_selection(v))
        chunk, paging = self._page(ctx, selection)
        body = []
        for cid in chunk:
            c = self.population.customer(cid)
            if c is not None:
                body.append(self._customer_json(c, ctx.site))
        return _Answer(200, body, paging)

    def _customer_or_404(self, raw: str) -> Customer:
        c = self.population.customer(int(raw))
        if c is None:
            raise ApiError(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        return c

    def _h_get_customer(self, ctx: _Ctx) -> _Answer:
        return _Answer(200, self._customer_json(self._customer_or_404(ctx.match["id"]), ctx.site))

    def _json_body(self, ctx: _Ctx) -> Any:
        raw = ctx.request.body
        if not raw.strip():
            return {}
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from None

    def _update_customer(self, cid: int, item: Mapping[str, Any]) -> Customer:
        if self.population.customer(cid) is None:
            raise ApiError(404, "wc_user_invalid_id", "Invalid user ID.")
        meta = item.get("meta_data")
        updates = [m for m in meta if isinstance(m, dict)] if isinstance(meta, list) else []
        return self.population.write_customer_meta(cid, updates)

    def _h_update_customer(self, ctx: _Ctx) -> _Answer:
        body = self._json_body(ctx)
        if not isinstance(body, dict):
            body = {}
        c = self._update_customer(int(ctx.match["id"]), body)
        return _Answer(200, self._customer_json(c, ctx.site))

    def _batch(self, ctx: _Ctx, update: Callable[[int, Mapping[str, Any]], Any],
               render: Callable[[Any], dict[str, Any]], invalid: tuple[str, str, int]
               ) -> _Answer:
        body = self._json_body(ctx)
        if not isinstance(body, dict):
            body = {}
        groups = {k: body.get(k) for k in ("create", "update", "delete")
                  if isinstance(body.get(k), list) and body.get(k)}
        if sum(len(v) for v in groups.values() if isinstance(v, list)) > 100:
            raise ApiError(413, "woocommerce_rest_request_entity_too_large",
                           "Unable to accept more than 100 items for this request.")
        out: dict[str, list[dict[str, Any]]] = {}
        for kind, items in groups.items():
            assert isinstance(items, list)
            results = []
            for item in items:
                item_id = item.get("id") if isinstance(item, dict) else item
                if kind != "update":
                    results.append({"id": item_id if isinstance(item_id, int) else 0,
                                    "error": {"code": "sandbox_not_implemented",
                                              "message": f"The sandbox does not {kind}.",
                                              "data": {"status": 501}}})
                    continue
                try:
                    number = int(item_id) if isinstance(item_id, (int, str)) else 0
                except ValueError:
                    number = 0
                try:
                    if number <= 0:
                        raise ApiError(invalid[2], invalid[0], invalid[1])
                    results.append(render(update(number, item)))
                except ApiError as err:
                    results.append({"id": number, "error": {
                        "code": err.code, "message": err.message, "data": {"status": err.status}}})
            out[kind] = results
        return _Answer(200, out)

    def _h_batch_customers(self, ctx: _Ctx) -> _Answer:
        return self._batch(ctx, self._update_customer,
                           lambda c: self._customer_json(c, ctx.site),
                           ("woocommerce_rest_invalid_id", "Invalid resource ID.", 400))

    # ------------------------------------------------------------------ orders
    def _order_json(self, o: Order, site: str) -> dict[str, Any]:
        b, s = o.billing, o.shipping
        local, gmt = SHOP_TIMEZONE, timezone.utc
        code = o.status
        oid = o.id
        line_items: list[dict[str, Any]] = [{
            "id": li.id, "name": li.name, "product_id": li.product_id, "variation_id": 0,
            "quantity": li.quantity, "tax_class": "", "subtotal": _money(li.total),
            "subtotal_tax": "0.00", "total": _money(li.total), "total_tax": "0.00",
            "taxes": [], "meta_data": [], "sku": li.sku, "price": _number(li.price),
            "image": {"id": "", "src": ""}, "parent_name": None,
        } for li in o.line_items]
        shipping_lines = []
        if o.shipping_total:
            shipping_lines.append({
                "id": o.shipping_line_id, "method_title": "PostNL", "method_id": "flat_rate",
                "instance_id": "1", "total": _money(o.shipping_total), "total_tax": "0.00",
                "taxes": [], "tax_status": "taxable", "meta_data": []})
        unpaid = code in (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.CHECKOUT_DRAFT)
        links: dict[str, Any] = {
            "self": [{"href": self.rest_url(site, f"/wc/v3/orders/{oid}"),
                      "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}}],
            "collection": [{"href": self.rest_url(site, "/wc/v3/orders")}],
            "email_templates": [{"embeddable": True, "href": self.rest_url(
                site, f"/wc/v3/orders/{oid}/actions/email_templates")}],
        }
        if o.customer_id:
            links["customer"] = [{"href": self.rest_url(site,
                                                        f"/wc/v3/customers/{o.customer_id}")}]
        body: dict[str, Any] = {
            "id": oid, "parent_id": 0, "status": code.value, "currency": "EUR",
            "version": WC_VERSION, "prices_include_tax": False,
            "date_created": _fmt(o.date_created, local),
            "date_modified": _fmt(o.date_modified, local),
            "discount_total": "0.00", "discount_tax": "0.00",
            "shipping_total": _money(o.shipping_total), "shipping_tax": "0.00",
            "cart_tax": "0.00", "total": _money(o.total), "total_tax": _money(o.total_tax),
            "customer_id": o.customer_id, "order_key": o.order_key,
            "billing": {"first_name": b.first_name, "last_name": b.last_name,
                        "company": b.company, "address_1": b.address_1,
                        "address_2": b.address_2, "city": b.city, "state": b.state,
                        "postcode": b.postcode, "country": b.country, "email": b.email,
                        "phone": b.phone},
            "shipping": {"first_name": s.first_name, "last_name": s.last_name,
                         "company": s.company, "address_1": s.address_1,
                         "address_2": s.address_2, "city": s.city, "state": s.state,
                         "postcode": s.postcode, "country": s.country, "phone": s.phone},
            "payment_method": o.payment_method, "payment_method_title": o.payment_method_title,
            "transaction_id": o.transaction_id, "customer_ip_address": o.customer_ip_address,
            "customer_user_agent": o.customer_user_agent, "created_via": o.created_via,
            "customer_note": "",
            "date_completed": _fmt(o.date_completed, local),
            "date_paid": _fmt(o.date_paid, local),
            "cart_hash": "", "number": str(oid),
            "meta_data": [{"id": m.id, "key": m.key, "value": m.value} for m in o.meta_data],
            "line_items": line_items, "tax_lines": [], "shipping_lines": shipping_lines,
            "fee_lines": [], "coupon_lines": [],
            "refunds": [{"id": r.id, "reason": r.reason, "total": "-" + _money(r.amount)}
                        for r in o.refunds],
            "payment_url": f"{site}/checkout/order-pay/{oid}/?pay_for_order=true&key="
                           f"{o.order_key}",
            "is_editable": code in (OrderStatus.PENDING, OrderStatus.ON_HOLD),
            "needs_payment": unpaid and o.total > 0,
            "needs_processing": True,
            "date_created_gmt": _fmt(o.date_created, gmt),
            "date_modified_gmt": _fmt(o.date_modified, gmt),
            "date_completed_gmt": _fmt(o.date_completed, gmt),
            "date_paid_gmt": _fmt(o.date_paid, gmt),
            "currency_symbol": "€",
            "_links": links,
        }
        if oid in self.faults.malformed_order_ids:
            body["total"] = "abc"
        return body

    def _order_selection(self, values: Mapping[str, Any]) -> npt.NDArray[np.int64]:
        pop = self.population
        created, modified, status, cids = pop.order_index_arrays()
        n = status.size
        statuses = values["status"] or ["any"]
        if "any" in statuses:
            mask = status != STATUSES.index(OrderStatus.TRASH)
        else:
            codes = [STATUSES.index(OrderStatus(s)) for s in statuses if s != "auto-draft"]
            mask = np.isin(status, np.array(codes, dtype=np.int8))
        if values.get("customer") is not None:
            mask &= cids == int(values["customer"])
        for name, arr, op in (("after", created, np.greater), ("before", created, np.less),
                              ("modified_after", modified, np.greater),
                              ("modified_before", modified, np.less)):
            bound = self._time_filter(values, name)
            if bound is not None:
                mask &= op(arr, bound)
        ids = np.arange(FIRST_ORDER_ID, FIRST_ORDER_ID + n, dtype=np.int64)
        if values["include"]:
            mask &= np.isin(ids, np.array(values["include"], dtype=np.int64))
        if values["exclude"]:
            mask &= ~np.isin(ids, np.array(values["exclude"], dtype=np.int64))
        if values["parent"]:
            mask &= np.isin(0, np.array(values["parent"]))
        product = values.get("product")
        search = values.get("search")
        if search:
            mask &= self._order_search(search, ids)
        chosen = ids[mask]
        if product is not None:
            chosen = np.array([i for i in chosen if any(
                li.product_id == product for li in self._order_lines(int(i)))], dtype=np.int64)
        orderby, desc = values["orderby"], values["order"] == "desc"
        if orderby == "include" and values["include"]:
            return self._by_include(chosen, values["include"])
        if orderby == "modified":
            return self._sort(chosen, modified[chosen - FIRST_ORDER_ID], desc)
        if orderby == "id" or pop.created_is_monotone():
            return self._sort(chosen, None, desc)
        return self._sort(chosen, created[chosen - FIRST_ORDER_ID], desc)

    def _order_lines(self, oid: int) -> Sequence[Any]:
        o = self.population.order(oid)
        return o.line_items if o is not None else ()

    def _order_search(self, term: str, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        pop = self.population
        needle = term.strip().lower()
        mask = np.zeros(ids.size, dtype=bool)
        if needle.isdigit():
            k = int(needle) - FIRST_ORDER_ID
            if 0 <= k < ids.size:
                mask[k] = True
            return mask
        for k in range(ids.size):
            o = pop.order(int(ids[k]))
            if o is not None and (needle in o.billing.email.lower()
                                  or needle in o.billing.first_name.lower()
                                  or needle in o.billing.last_name.lower()):
                mask[k] = True
        return mask

    @staticmethod
    def _order_link_extra(query: PhpParams) -> PhpParams:
        out: PhpParams = {}
        status = query.get("status")
        items = _parse_list(status) if status is not None else ["any"]
        for key, value in query.items():
            out[key] = list(items) if key == "status" else value
        if "status" not in out:
            out["status"] = list(items)
        out.setdefault("dp", "2")
        out.setdefault("context", "view")
        return out

    def _h_list_orders(self, ctx: _Ctx) -> _Answer:
        v = ctx.values
        key = ("orders", tuple(v["status"]), v.get("customer"), v.get("after"), v.get("before"),
               v.get("modified_after"), v.get("modified_before"), v["dates_are_gmt"],
               tuple(v["include"]), tuple(v["exclude"]), tuple(v["parent"]), v.get("product"),
               v.get("search"), v["orderby"], v["order"])
        selection = self._cached(key, lambda: self._order_selection(v))
        chunk, paging = self._page(ctx, selection, self._order_link_extra)
        body = []
        for oid in chunk:
            o = self.population.order(oid)
            if o is not None:
                body.append(self._order_json(o, ctx.site))
        return _Answer(200, body, paging)

    def _order_or_error(self, raw: str, status: int) -> Order:
        o = self.population.order(int(raw))
        if o is None:
            raise ApiError(status, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return o

    def _h_get_order(self, ctx: _Ctx) -> _Answer:
        return _Answer(200, self._order_json(self._order_or_error(ctx.match["id"], 404), ctx.site))

    def _update_order(self, oid: int, item: Mapping[str, Any]) -> Order:
        self._order_or_error(str(oid), 400)
        status = item.get("status")
        if status is not None and status not in ORDER_WRITE_STATUSES:
            message = f"status is not one of {wp_list(ORDER_WRITE_STATUSES)}."
            raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status", {
                "params": {"status": message},
                "details": {"status": {"code": "rest_not_in_enum", "message": message,
                                       "data": None}}})
        meta = item.get("meta_data")
        updates = [m for m in meta if isinstance(m, dict)] if isinstance(meta, list) else None
        return self.population.update_order(oid, status=status, meta_data=updates)

    def _h_update_order(self, ctx: _Ctx) -> _Answer:
        body = self._json_body(ctx)
        if not isinstance(body, dict):
            body = {}
        o = self._update_order(int(ctx.match["id"]), body)
        return _Answer(200, self._order_json(o, ctx.site))

    def _h_batch_orders(self, ctx: _Ctx) -> _Answer:
        return self._batch(ctx, self._update_order, lambda o: self._order_json(o, ctx.site),
                           ("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400))

    # ------------------------------------------------------------------ refunds
    def _refund_json(self, r: Refund, site: str) -> dict[str, Any]:
        base = f"/wc/v3/orders/{r.order_id}"
        return {
            "id": r.id,
            "date_created": _fmt(r.date_created, SHOP_TIMEZONE),
            "date_created_gmt": _fmt(r.date_created, timezone.utc),
            "amount": _money(r.amount), "reason": r.reason, "refunded_by": 1,
            "refunded_payment": False, "meta_data": [], "line_items": [], "shipping_lines": [],
            "tax_lines": [], "fee_lines": [],
            "_links": {
                "self": [{"href": self.rest_url(site, f"{base}/refunds/{r.id}"),
                          "targetHints": {"allow": ["GET", "DELETE"]}}],
                "collection": [{"href": self.rest_url(site, f"{base}/refunds")}],
                "up": [{"href": self.rest_url(site, base)}],
            },
        }

    def _h_list_refunds(self, ctx: _Ctx) -> _Answer:
        o = self._order_or_error(ctx.match["order_id"], 404)
        refunds = sorted(o.refunds, key=lambda r: (r.date_created, r.id),
                         reverse=ctx.values["order"] == "desc")
        selection = np.array([r.id for r in refunds], dtype=np.int64)
        chunk, paging = self._page(ctx, selection)
        by_id = {r.id: r for r in refunds}
        return _Answer(200, [self._refund_json(by_id[i], ctx.site) for i in chunk], paging)

    # ------------------------------------------------------------------ reviews
    def _review_json(self, r: Review, site: str) -> dict[str, Any]:
        product = next(p for p in self.population.products if p.id == r.product_id)
        return {
            "id": r.id,
            "date_created": _fmt(r.date_created, SHOP_TIMEZONE),
            "date_created_gmt": _fmt(r.date_created, timezone.utc),
            "product_id": r.product_id, "product_name": product.name,
            "product_permalink": f"{site}/product/{product.slug}/",
            "status": r.status, "reviewer": r.reviewer, "reviewer_email": r.reviewer_email,
            "review": f"<p>{r.review}</p>\n", "rating": r.rating, "verified": r.verified,
            "reviewer_avatar_urls": {str(n): _avatar(r.reviewer_email, n) for n in (24, 48, 96)},
            "_links": {
                "self": [{"href": self.rest_url(site, f"/wc/v3/products/reviews/{r.id}"),
                          "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}}],
                "collection": [{"href": self.rest_url(site, "/wc/v3/products/reviews")}],
                "up": [{"href": self.rest_url(site, f"/wc/v3/products/{r.product_id}")}],
            },
        }

    def _review_selection(self, values: Mapping[str, Any]) -> npt.NDArray[np.int64]:
        pop = self.population
        created, rstatus, products = pop.review_index_arrays()
        n = created.size
        ids = np.arange(FIRST_REVIEW_ID, FIRST_REVIEW_ID + n, dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        status = values["status"]
        if status == "approved":
            mask &= rstatus == 0
        elif status == "hold":
            mask &= rstatus == 1
        elif status in ("spam", "trash"):
            mask &= False
        if values["product"]:
            mask &= np.isin(products, np.array(values["product"], dtype=np.int16))
        for name, op in (("after", np.greater), ("before", np.less)):
            bound = self._time_filter(values, name)
            if bound is not None:
                mask &= op(created, bound)
        if values["include"]:
            mask &= np.isin(ids, np.array(values["include"], dtype=np.int64))
        if values["exclude"]:
            mask &= ~np.isin(ids, np.array(values["exclude"], dtype=np.int64))
        email = values.get("reviewer_email")
        if email:
            wanted = email.strip().lower()
            for k in np.flatnonzero(mask):
                r = pop.review(int(ids[k]))
                if r is None or r.reviewer_email.lower() != wanted:
                    mask[k] = False
        chosen = ids[mask]
        orderby, desc = values["orderby"], values["order"] == "desc"
        if orderby == "include" and values["include"]:
            return self._by_include(chosen, values["include"])
        if orderby == "product":
            return self._sort(chosen, products[chosen - FIRST_REVIEW_ID], desc)
        return self._sort(chosen, None, desc)

    def _h_list_reviews(self, ctx: _Ctx) -> _Answer:
        v = ctx.values
        key = ("reviews", v["status"], tuple(v["product"]), v.get("after"), v.get("before"),
               tuple(v["include"]), tuple(v["exclude"]), v.get("reviewer_email"), v["orderby"],
               v["order"])
        selection = self._cached(key, lambda: self._review_selection(v))
        chunk, paging = self._page(ctx, selection)
        body = []
        for rid in chunk:
            r = self.population.review(rid)
            if r is not None:
                body.append(self._review_json(r, ctx.site))
        return _Answer(200, body, paging)

    def _h_get_review(self, ctx: _Ctx) -> _Answer:
        r = self.population.review(int(ctx.match["id"]))
        if r is None:
            raise ApiError(404, "woocommerce_rest_review_invalid_id", "Invalid review ID.")
        return _Answer(200, self._review_json(r, ctx.site))

    def _h_unsupported(self, ctx: _Ctx) -> _Answer:
        raise ApiError(501, "sandbox_not_implemented",
                       f"The sandbox does not implement {ctx.method} {ctx.route_path}.")


def meta_rows(entries: Sequence[MetaEntry]) -> list[dict[str, Any]]:
    """Meta entries as WooCommerce renders them (``id``, ``key``, ``value``)."""
    return [{"id": m.id, "key": m.key, "value": m.value} for m in entries]
