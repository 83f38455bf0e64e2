"""The population served as the WooCommerce REST API (wc/v3), as a real 10.0.2 shop answers.

Everything here was checked against real exchanges (tests/fixtures/woocommerce-real/): the
order of checks (OAuth, key permissions, route, parameter validation, capability, handler),
the error codes and messages, the paging headers, field names, key order and JSON types.

Routes: ``GET customers``, ``GET/PUT customers/{id}``, ``POST customers/batch``, ``GET orders``,
``GET/PUT orders/{id}``, ``POST orders/batch``, ``GET orders/{id}/refunds``,
``GET products/reviews``, ``GET products/reviews/{id}``, ``OPTIONS`` on each, the REST index
``/wp-json/`` and the ``wc/v3`` namespace index. Both ``/wp-json/...`` and ``?rest_route=...``
address them; with ``pretty_permalinks=False`` only the latter does.

This module is the HTTP side: dispatch in the shop's order, the handlers, paging and headers.
Arguments are :mod:`.woo_args`', the route table :mod:`.woo_routes`', authentication
:mod:`.woo_auth`'s, selections :mod:`.woo_select`'s and JSON shapes :mod:`.woo_render`'s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote_plus, unquote

import numpy as np
import numpy.typing as npt

from .faults import Faults
from .oauth1 import PhpParams, PhpValue
from .population import Population
from .records import Customer, Order
from .wire import HttpRequest, HttpResponse, as_text, parse_php_query
from .woo_args import ORDER_WRITE_STATUSES, ApiError, parse_list, validate, wp_list
from .woo_auth import WooCredentials, authenticate
from .woo_render import WooRenderer, filter_fields, wp_json
from .woo_routes import match_route, namespace_index, options, rest_index
from .woo_select import WooSelector

JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
EXPOSE = "X-WP-Total, X-WP-TotalPages, Link"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NO_ROUTE = ("rest_no_route", "No route was found matching the URL and request method.")

R = TypeVar("R")


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
        self._keys = credentials.keys()
        self._select = WooSelector(population)
        self._render = WooRenderer(population.products, pretty_permalinks=pretty_permalinks,
                                   faults=self.faults)
        self._handlers: dict[str, Callable[[_Ctx], _Answer]] = {
            "list_customers": self._h_list_customers, "get_customer": self._h_get_customer,
            "update_customer": self._h_update_customer,
            "batch_customers": self._h_batch_customers, "list_orders": self._h_list_orders,
            "get_order": self._h_get_order, "update_order": self._h_update_order,
            "batch_orders": self._h_batch_orders, "list_refunds": self._h_list_refunds,
            "list_all_refunds": self._h_list_all_refunds,
            "list_reviews": self._h_list_reviews, "get_review": self._h_get_review,
            "unsupported": self._h_unsupported,
        }

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
        return self._render.rest_url(site, route)

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
                 paging: tuple[int, int, str] | None = None) -> HttpResponse:
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
        return HttpResponse(status, headers, wp_json(body))

    def _error(self, err: ApiError, site: str, allow: str | None = None) -> HttpResponse:
        return self._respond(err.status, err.body(), site, allow=allow)

    def _rest(self, request: HttpRequest, params: PhpParams, route: str, *,
              via_query: bool) -> HttpResponse:
        site = request.base_url
        route = "/" + route.strip("/") if route.strip("/") else "/"
        method = request.method.upper()
        if route == "/":
            return self._respond(200, rest_index(self.site_title, site), site)
        if not (route.startswith("/wc/") or route.startswith("/wc-")):
            return self._error(ApiError(404, *_NO_ROUTE), site)
        try:
            permissions = authenticate(request, params, via_query, self._keys)
        except ApiError as err:
            return self._error(err, site)
        if permissions == "read" and method in _WRITE_METHODS:
            return self._error(ApiError(401, "woocommerce_rest_authentication_error",
                                        "The API key provided does not have write "
                                        "permissions."), site)
        if route == "/wc/v3":
            return self._respond(200, namespace_index(self.rest_url(site, "/")), site)
        found = match_route(route)
        if found is None:
            return self._error(ApiError(404, *_NO_ROUTE), site)
        rdef, match = found
        allow = ", ".join(rdef.methods) if permissions else None
        if method == "OPTIONS":
            return self._respond(200, options(rdef, self.rest_url(site, route)), site,
                                 allow=allow)
        endpoint = next((e for e in rdef.endpoints if method in e.methods), None)
        if endpoint is None:
            return self._error(ApiError(404, *_NO_ROUTE), site)
        try:
            values = validate(endpoint.args, params)
        except ApiError as err:
            return self._error(err, site, allow)
        if not permissions:
            return self._error(ApiError(401, endpoint.deny_code, endpoint.deny_message), site)
        ctx = _Ctx(request, params, route, self.rest_url(site, route), site, values, match, method)
        try:
            answer = self._handlers[endpoint.handler](ctx)
        except ApiError as err:
            return self._error(err, site, allow)
        body = answer.body
        fields = as_text(params.get("_fields"))
        if fields:
            body = filter_fields(body, fields)
        return self._respond(answer.status, body, site, allow=allow, paging=answer.paging)

    # ------------------------------------------------------------------ paging
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

    def _list(self, ctx: _Ctx, selection: npt.NDArray[np.int64], fetch: Callable[[int], R | None],
              render: Callable[[R, str], dict[str, Any]],
              link_extra: Callable[[PhpParams], PhpParams] | None = None) -> _Answer:
        """One page of ``selection``, each id fetched and rendered (ids gone since are
        skipped)."""
        chunk, paging = self._page(ctx, selection, link_extra)
        found = (fetch(i) for i in chunk)
        return _Answer(200, [render(rec, ctx.site) for rec in found if rec is not None], paging)

    # ------------------------------------------------------------------ writes
    @staticmethod
    def _json_object(ctx: _Ctx) -> dict[str, Any]:
        raw = ctx.request.body
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
        return body if isinstance(body, dict) else {}

    def _batch(self, ctx: _Ctx, update: Callable[[int, Mapping[str, Any]], Any],
               render: Callable[[Any], dict[str, Any]], invalid: tuple[str, str, int]
               ) -> _Answer:
        body = self._json_object(ctx)
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

    # ------------------------------------------------------------------ customers
    def _h_list_customers(self, ctx: _Ctx) -> _Answer:
        return self._list(ctx, self._select.customers(ctx.values), self.population.customer,
                          self._render.customer)

    def _h_get_customer(self, ctx: _Ctx) -> _Answer:
        c = self.population.customer(int(ctx.match["id"]))
        if c is None:
            raise ApiError(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        return _Answer(200, self._render.customer(c, ctx.site))

    def _update_customer(self, cid: int, item: Mapping[str, Any]) -> Customer:
        if self.population.customer(cid) is None:
            raise ApiError(404, "wc_user_invalid_id", "Invalid user ID.")
        meta = item.get("meta_data")
        updates = [m for m in meta if isinstance(m, dict)] if isinstance(meta, list) else []
        return self.population.write_customer_meta(cid, updates)

    def _h_update_customer(self, ctx: _Ctx) -> _Answer:
        c = self._update_customer(int(ctx.match["id"]), self._json_object(ctx))
        return _Answer(200, self._render.customer(c, ctx.site))

    def _h_batch_customers(self, ctx: _Ctx) -> _Answer:
        return self._batch(ctx, self._update_customer,
                           lambda c: self._render.customer(c, ctx.site),
                           ("woocommerce_rest_invalid_id", "Invalid resource ID.", 400))

    # ------------------------------------------------------------------ orders
    @staticmethod
    def _order_link_extra(query: PhpParams) -> PhpParams:
        out: PhpParams = {}
        status = query.get("status")
        items = parse_list(status) if status is not None else ["any"]
        for key, value in query.items():
            out[key] = list(items) if key == "status" else value
        if "status" not in out:
            out["status"] = list(items)
        out.setdefault("dp", "2")
        out.setdefault("context", "view")
        return out

    def _h_list_orders(self, ctx: _Ctx) -> _Answer:
        return self._list(ctx, self._select.orders(ctx.values), self.population.order,
                          self._render.order, self._order_link_extra)

    def _order_or_error(self, raw: str, status: int) -> Order:
        o = self.population.order(int(raw))
        if o is None:
            raise ApiError(status, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return o

    def _h_get_order(self, ctx: _Ctx) -> _Answer:
        o = self._order_or_error(ctx.match["id"], 404)
        return _Answer(200, self._render.order(o, ctx.site))

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
        o = self._update_order(int(ctx.match["id"]), self._json_object(ctx))
        return _Answer(200, self._render.order(o, ctx.site))

    def _h_batch_orders(self, ctx: _Ctx) -> _Answer:
        return self._batch(ctx, self._update_order, lambda o: self._render.order(o, ctx.site),
                           ("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400))

    # ------------------------------------------------------------------ refunds and reviews
    def _h_list_refunds(self, ctx: _Ctx) -> _Answer:
        o = self._order_or_error(ctx.match["order_id"], 404)
        refunds = sorted(o.refunds, key=lambda r: (r.date_created, r.id),
                         reverse=ctx.values["order"] == "desc")
        selection = np.array([r.id for r in refunds], dtype=np.int64)
        by_id = {r.id: r for r in refunds}
        return self._list(ctx, selection, by_id.get, self._render.refund)

    def _h_list_all_refunds(self, ctx: _Ctx) -> _Answer:
        chosen, orders = self._select.refunds(ctx.values)
        owner = dict(zip(chosen.tolist(), orders.tolist()))

        def fetch(refund_id: int) -> Any:
            order = self.population.order(owner[refund_id])
            return next((r for r in order.refunds if r.id == refund_id), None) if order else None

        return self._list(ctx, chosen, fetch, self._render.listed_refund)

    def _h_list_reviews(self, ctx: _Ctx) -> _Answer:
        return self._list(ctx, self._select.reviews(ctx.values), self.population.review,
                          self._render.review)

    def _h_get_review(self, ctx: _Ctx) -> _Answer:
        r = self.population.review(int(ctx.match["id"]))
        if r is None:
            raise ApiError(404, "woocommerce_rest_review_invalid_id", "Invalid review ID.")
        return _Answer(200, self._render.review(r, ctx.site))

    def _h_unsupported(self, ctx: _Ctx) -> _Answer:
        raise ApiError(501, "sandbox_not_implemented",
                       f"The sandbox does not implement {ctx.method} {ctx.route_path}.")
