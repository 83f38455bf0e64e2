"""The WooCommerce routes the sandbox registers, and what the REST discovery says of them.

A route is a ``wc/v3`` path pattern with endpoints (method groups): each names its handler, the
arguments it declares (:mod:`.woo_args`) and the error a key without the capability gets. The
REST index, the namespace index and ``OPTIONS`` answers are built from the same table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .woo_args import (
    CUSTOMER_ARGS,
    ORDER_ARGS,
    REFUND_ARGS,
    REVIEW_ARGS,
    SINGLE_ARGS,
    Arg,
)

_ARG_TYPES = {"int": "integer", "enum": "string", "date": "string", "bool": "boolean",
              "int_list": "array", "enum_list": "array", "str_list": "array"}
_SCHEMA_TITLES = {"orders": "shop_order", "customers": "customer", "reviews": "product_review",
                  "refunds": "shop_order_refund", "batch": "batch"}


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
    _route("/wc/v3/refunds", (("GET",), "list_all_refunds", REFUND_ARGS, _LIST)),
    _route("/wc/v3/orders/{order_id}/refunds", (("GET",), "list_refunds", REFUND_ARGS, _LIST),
           (("POST",), "unsupported", (), _CREATE)),
    _route("/wc/v3/products/reviews", (("GET",), "list_reviews", REVIEW_ARGS, _LIST),
           (("POST",), "unsupported", (), _CREATE)),
    _route("/wc/v3/products/reviews/{id}", (("GET",), "get_review", SINGLE_ARGS, _VIEW),
           (_EDITABLE, "unsupported", (), _EDIT), (("DELETE",), "unsupported", (), _DELETE)),
)


def match_route(route: str) -> tuple[Route, dict[str, str]] | None:
    """The route a REST path matches and its path parameters, or None."""
    for rdef in ROUTES:
        m = rdef.pattern.match(route)
        if m:
            return rdef, m.groupdict()
    return None


def rest_index(site_title: str, site: str) -> dict[str, Any]:
    """The body of ``GET /wp-json/`` (no routes listed)."""
    return {
        "name": site_title, "description": "", "url": site, "home": site,
        "gmt_offset": 1, "timezone_string": "Europe/Amsterdam", "page_for_posts": 0,
        "page_on_front": 0, "show_on_front": "posts",
        "namespaces": ["oembed/1.0", "wc/store", "wc/store/v1", "wc/v1", "wc/v2", "wc/v3",
                       "wc-analytics", "wc-admin", "wp/v2", "wp-site-health/v1"],
        "authentication": [], "routes": {},
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    }


def namespace_index(up: str) -> dict[str, Any]:
    """The body of ``GET /wp-json/wc/v3``; ``up`` is the REST index URL."""
    routes = {}
    for rdef in ROUTES:
        routes[rdef.template] = {
            "namespace": "wc/v3", "methods": rdef.methods,
            "endpoints": [{"methods": list(e.methods), "args": {}} for e in rdef.endpoints],
        }
    return {"namespace": "wc/v3", "routes": routes, "_links": {"up": [{"href": up}]}}


def options(rdef: Route, self_url: str) -> dict[str, Any]:
    """The body of ``OPTIONS`` on a route: its endpoints with their declared arguments."""
    endpoints = []
    for e in rdef.endpoints:
        args: dict[str, Any] = {}
        for a in e.args:
            spec: dict[str, Any] = {"description": a.description,
                                    "type": _ARG_TYPES.get(a.kind, "string"), "required": False}
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
    last = [p for p in rdef.template.split("/") if p and not p.startswith("{")][-1]
    return {"namespace": "wc/v3", "methods": rdef.methods, "endpoints": endpoints,
            "schema": {"$schema": "http://json-schema.org/draft-04/schema#",
                       "title": _SCHEMA_TITLES.get(last, last), "type": "object",
                       "properties": {}},
            "_links": {"self": [{"href": self_url}]}}
