"""WooCommerce's JSON shapes: neutral records rendered as a real 10.0.2 shop answers them.

Field names, key order and JSON types as recorded from the real shop (money as two-decimal
strings, a line's ``price`` as a number, dates in shop time and GMT without offsets, ``_links``
last), ``_fields`` filtering and PHP's ``json_encode`` escaping. ``Faults`` can break chosen
records (an order's ``total`` becomes ``"abc"``, a customer loses its ``id``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .faults import Faults
from .records import SHOP_TIMEZONE, Address, Customer, Order, OrderStatus, Product, Refund, Review

WC_VERSION = "10.0.2"
# Address keys in the order each record kind lists them (billing adds email and phone,
# shipping adds phone).
_CUSTOMER_ADDRESS = ("first_name", "last_name", "company", "address_1", "address_2", "city",
                     "postcode", "country", "state")
_ORDER_ADDRESS = ("first_name", "last_name", "company", "address_1", "address_2", "city",
                  "state", "postcode", "country")


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


def _address(a: Address, keys: Sequence[str]) -> dict[str, str]:
    """The address fields ``keys``, in that order."""
    return {k: getattr(a, k) for k in keys}


class WooRenderer:
    """Renders records for one site layout (``pretty_permalinks``) and set of ``faults``."""

    def __init__(self, products: Sequence[Product], *, pretty_permalinks: bool,
                 faults: Faults) -> None:
        self.pretty_permalinks = pretty_permalinks
        self.faults = faults
        self._products = {p.id: p for p in products}

    def rest_url(self, site: str, route: str) -> str:
        """The URL WordPress would give for a REST route on this site."""
        route = "/" + route.lstrip("/")
        if self.pretty_permalinks:
            return f"{site}/wp-json{route}"
        return f"{site}/?rest_route={route}"

    def customer(self, c: Customer, site: str) -> dict[str, Any]:
        """A customer as ``GET customers/{id}`` gives it."""
        allow = ["GET", "POST", "PUT", "PATCH", *([] if c.id == 1 else ["DELETE"])]
        body: dict[str, Any] = {
            "id": c.id,
            "date_created": _fmt(c.date_created, SHOP_TIMEZONE),
            "date_created_gmt": _fmt(c.date_created, timezone.utc),
            "date_modified": _fmt(c.date_modified, SHOP_TIMEZONE),
            "date_modified_gmt": _fmt(c.date_modified, timezone.utc),
            "email": c.email, "first_name": c.first_name, "last_name": c.last_name,
            "role": c.role.value, "username": c.username,
            "billing": _address(c.billing, (*_CUSTOMER_ADDRESS, "email", "phone")),
            "shipping": _address(c.shipping, (*_CUSTOMER_ADDRESS, "phone")),
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

    def order(self, o: Order, site: str) -> dict[str, Any]:
        """An order as ``GET orders/{id}`` gives it."""
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
            "billing": _address(o.billing, (*_ORDER_ADDRESS, "email", "phone")),
            "shipping": _address(o.shipping, (*_ORDER_ADDRESS, "phone")),
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

    def refund(self, r: Refund, site: str) -> dict[str, Any]:
        """A refund as ``GET orders/{id}/refunds`` lists it."""
        out = self.listed_refund(r, site)
        del out["parent_id"]
        return out

    def listed_refund(self, r: Refund, site: str) -> dict[str, Any]:
        """A refund as ``GET refunds`` lists it: the same fields plus its order's id in
        ``parent_id`` (as the real 10.0.2 answers)."""
        base = f"/wc/v3/orders/{r.order_id}"
        return {
            "id": r.id,
            "parent_id": r.order_id,
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

    def review(self, r: Review, site: str) -> dict[str, Any]:
        """A product review as ``GET products/reviews/{id}`` gives it."""
        product = self._products[r.product_id]
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
