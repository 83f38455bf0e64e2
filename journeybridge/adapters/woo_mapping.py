"""WooCommerce REST API (wc/v3) payloads to journey-model records: pure functions, no HTTP.

Quirks handled here: ``date_*_gmt`` are UTC without a zone suffix; money is a decimal string
except ``line_items[].price`` (a JSON number, converted through its text, never through float
arithmetic); ``customer_id`` 0 means a guest; refund totals inside an order are negative
strings; review text is HTML; plugin order statuses unknown to WooCommerce core map to a safe
default instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from journeybridge.adapters.fields import (
    bounded_time,
    count,
    local_time,
    money,
    record_id,
    reference,
    text,
)
from journeybridge.errors import InvalidRecord
from journeybridge.model import (
    Order,
    OrderStatus,
    Person,
    Platform,
    RefundRecord,
    Review,
)
from journeybridge.validation import build

__all__ = [
    "CORE_STATUSES",
    "WooMapping",
    "map_status",
]

CORE_STATUSES: dict[str, OrderStatus] = {
    "checkout-draft": OrderStatus.CHECKOUT_STARTED,
    "pending": OrderStatus.PENDING_PAYMENT,
    "on-hold": OrderStatus.ON_HOLD,
    "processing": OrderStatus.PAID,
    "completed": OrderStatus.DELIVERED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
    "failed": OrderStatus.FAILED,
    "trash": OrderStatus.CANCELLED,
    # statuses that common shipment-tracking plugins add
    "shipped": OrderStatus.SHIPPED,
    "partial-shipped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.DELIVERED,
}


def map_status(raw: str, paid: bool, extra: Mapping[str, OrderStatus] | None = None) -> OrderStatus:
    """The normalized status of a WooCommerce order status.

    ``on-hold`` with a payment date counts as paid; an unknown (plugin) status is paid when the
    order has a payment date and awaiting payment otherwise, never an error.
    """
    key = raw.strip().lower().removeprefix("wc-")
    if extra and key in extra:
        return extra[key]
    status = CORE_STATUSES.get(key)
    if status is OrderStatus.ON_HOLD and paid:
        return OrderStatus.PAID
    if status is None:
        return OrderStatus.PAID if paid else OrderStatus.PENDING_PAYMENT
    return status



_id = record_id


def _items(value: Any) -> list[Any]:
    """A JSON list field's items; nothing for anything that is not a list."""
    return value if isinstance(value, list) else []


def _label(kind: str, record_id: str | None, raw: Mapping[str, Any]) -> str:
    """``woocommerce <kind> <id>`` for messages: the canonical id, else the sent value cut
    short (a 5,000-digit id stays readable in a report)."""
    if record_id is not None:
        return f"woocommerce {kind} {record_id!r}"
    shown = repr(raw.get("id"))
    return f"woocommerce {kind} {shown if len(shown) <= 24 else shown[:21] + '...'}"



@dataclass
class WooMapping:
    """Maps one shop's payloads; ``timezone`` is the store time zone, used only when a
    ``_gmt`` field is missing; ``newsletter_keys`` name the customer meta keys that carry a
    newsletter opt-in and its date; ``meta_prefix`` selects the meta keys kept on records
    (journeybridge's own write-back keys)."""

    shop: str
    timezone: str = "UTC"
    newsletter_key: str = "newsletter_optin"
    newsletter_date_key: str = "newsletter_optin_date"
    meta_prefix: str = "journeybridge_"
    extra_statuses: dict[str, OrderStatus] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.timezone)

    def _when(self, record: Mapping[str, Any], name: str, problems: list[str]) -> datetime | None:
        gmt = record.get(name + "_gmt")
        if type(gmt) is str and len(gmt) == 19:  # the shape WooCommerce sends: the fast path
            try:
                parsed = datetime.fromisoformat(gmt)
            except ValueError:
                pass
            else:
                if parsed.tzinfo is None and 1970 < parsed.year < 2199:
                    return parsed.replace(tzinfo=timezone.utc)
        raw, zone = (gmt, timezone.utc) if gmt else (record.get(name), self._zone)
        if not raw:
            return None
        if isinstance(raw, dict):  # some clients/plugins send {"date": ..., "timezone": ...}
            raw = raw.get("date")
        stamp = raw if isinstance(raw, str) else ""
        try:
            if stamp.endswith("Z"):
                stamp = stamp[:-1] + "+00:00"
            parsed = datetime.fromisoformat(stamp)
            if parsed.tzinfo is None:
                return local_time(parsed, zone)
            return bounded_time(parsed)
        except ValueError:
            problems.append(f"field '{name}_gmt': not a date ({str(raw)[:30]!r})")
            return None

    def _meta(self, record: Mapping[str, Any]) -> dict[str, str]:
        found: dict[str, str] = {}
        entries = record.get("meta_data")
        if not isinstance(entries, list):
            return found
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            key = entry.get("key")
            value = entry.get("value")
            if isinstance(key, str) and isinstance(value, (str, int, float, bool)):
                found[key] = str(value)
        return found

    def shipment(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """An order's tracking number, carrier and shipping time from the meta of the common
        shipment-tracking plugins (WooCommerce core keeps none): ``_wc_shipment_tracking_items``
        (WooCommerce Shipment Tracking, Advanced Shipment Tracking: a list of items, the last
        one with a tracking number wins), the older single keys ``_tracking_number``,
        ``_tracking_provider`` / ``_custom_tracking_provider``, ``_date_shipped``, and YITH's
        ``ywot_tracking_code`` / ``ywot_carrier_name``. Empty when there is none."""
        entries = record.get("meta_data")
        if not isinstance(entries, list):
            return {}
        meta = {e.get("key"): e.get("value") for e in entries
                if isinstance(e, dict) and isinstance(e.get("key"), str)}
        items = meta.get("_wc_shipment_tracking_items")
        if isinstance(items, str) and items.strip().startswith("["):
            try:
                items = json.loads(items)
            except ValueError:
                items = None
        found: Mapping[str, Any] | None = None
        if isinstance(items, list):
            tracked = [i for i in items if isinstance(i, dict) and text(i.get("tracking_number"))]
            found = tracked[-1] if tracked else None
        if found is None and text(meta.get("_tracking_number")):
            found = {"tracking_number": meta.get("_tracking_number"),
                     "tracking_provider": meta.get("_tracking_provider"),
                     "custom_tracking_provider": meta.get("_custom_tracking_provider"),
                     "date_shipped": meta.get("_date_shipped")}
        if found is None and text(meta.get("ywot_tracking_code")):
            found = {"tracking_number": meta.get("ywot_tracking_code"),
                     "custom_tracking_provider": meta.get("ywot_carrier_name")}
        if found is None:
            return {}
        carrier = text(found.get("custom_tracking_provider")) or \
            text(found.get("tracking_provider"))
        shipped = None
        stamp = text(found.get("date_shipped"))
        if stamp.isdigit() and 0 < int(stamp) < 7_258_118_400:  # before 2200
            shipped = datetime.fromtimestamp(int(stamp), timezone.utc)
        return {"tracking_number": text(found.get("tracking_number"))[:100],
                "carrier": carrier[:100] or None, "shipped_at": shipped}

    def _source(self, resource: str, record_id: str) -> dict[str, Any]:
        """The record's SourceRef, as data validated with the record (one validation)."""
        return {"platform": Platform.WOOCOMMERCE, "resource": resource, "id": record_id}

    def customer(self, raw: Mapping[str, Any]) -> Person:
        """A registered customer (any role) as a Person. Raises InvalidRecord."""
        problems: list[str] = []
        customer_id = _id(raw.get("id"))
        label = _label("customer", customer_id, raw)
        if customer_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        billing = raw.get("billing") if isinstance(raw.get("billing"), dict) else {}
        assert isinstance(billing, dict)
        meta = self._meta(raw)
        subscribed_raw = meta.get(self.newsletter_key, "").strip().lower()
        newsletter = None
        if subscribed_raw:
            subscribed = subscribed_raw in ("yes", "1", "true", "on", "subscribed")
            at = None
            if subscribed and meta.get(self.newsletter_date_key):
                at = self._when({"d_gmt": meta[self.newsletter_date_key]}, "d", problems)
            newsletter = {"subscribed": subscribed, "at": at}
        role = text(raw.get("role"))
        registered = self._when(raw, "date_created", problems)
        modified = self._when(raw, "date_modified", problems)
        if problems:
            raise InvalidRecord(label, problems)
        email = text(raw.get("email")) or text(billing.get("email"))
        return build(
            Person,
            {
                "shop": self.shop,
                "platform": Platform.WOOCOMMERCE,
                "key": f"customer:{customer_id}",
                "customer_id": customer_id,
                "email": email or None,
                "first_name": text(raw.get("first_name")) or text(billing.get("first_name")),
                "last_name": text(raw.get("last_name")) or text(billing.get("last_name")),
                "phone": text(billing.get("phone")),
                "city": text(billing.get("city")),
                "state": text(billing.get("state")),
                "postcode": text(billing.get("postcode")),
                "country": text(billing.get("country")),
                "roles": (role,) if role else (),
                "registered_at": registered,
                "modified_at": modified,
                "newsletter": newsletter,
                "meta": {k: v for k, v in meta.items() if k.startswith(self.meta_prefix)},
                "source": self._source("customer", customer_id),
            },
            label,
        )

    def order(self, raw: Mapping[str, Any]) -> Order:
        """An order (any status) as an Order; guests have ``customer_id`` None.
        Raises InvalidRecord naming the order and every bad field."""
        problems: list[str] = []
        order_id = _id(raw.get("id"))
        label = _label("order", order_id, raw)
        if order_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        customer_ref = reference(raw.get("customer_id"), "customer_id", problems)
        raw_status = text(raw.get("status"))
        if not raw_status:
            problems.append("field 'status': missing")
        billing = raw.get("billing") if isinstance(raw.get("billing"), dict) else {}
        assert isinstance(billing, dict)
        created = self._when(raw, "date_created", problems)
        if created is None and not any("date_created" in p for p in problems):
            problems.append("field 'date_created_gmt': missing")
        paid_at = self._when(raw, "date_paid", problems)
        lines = []
        for index, item in enumerate(_items(raw.get("line_items"))):
            if not isinstance(item, dict):
                problems.append(f"field 'line_items.{index}': not an object")
                continue
            quantity = count(item.get("quantity")) if isinstance(item.get("quantity"),
                                                                  int) else None
            if quantity is None:
                problems.append(f"field 'line_items.{index}.quantity': not a count")
                continue
            total = money(item.get("total"), f"line_items.{index}.total", problems)
            price_raw = item.get("price")
            unit = (money(price_raw, f"line_items.{index}.price", problems)
                    if price_raw is not None else
                    (total / quantity if quantity else Decimal("0")))
            variation = _id(item.get("variation_id"))
            lines.append({
                "product_id": _id(item.get("product_id")) or "0",
                "variation_id": variation,
                "name": text(item.get("name")),
                "sku": text(item.get("sku")),
                "quantity": quantity,
                "unit_price": unit,
                "total": total,
            })
        refunds = []
        for index, refund in enumerate(_items(raw.get("refunds"))):
            if not isinstance(refund, dict):
                continue
            amount = money(refund.get("total"), f"refunds.{index}.total", problems)
            refunds.append({"id": _id(refund.get("id")) or text(refund.get("id"))[:40],
                            "amount": abs(amount),
                            "reason": text(refund.get("reason"))})
        coupons = tuple(text(c.get("code")) for c in _items(raw.get("coupon_lines"))
                        if isinstance(c, dict) and c.get("code"))
        totals = {name: money(raw.get(name), name, problems)
                  for name in ("total", "total_tax", "shipping_total", "discount_total")}
        modified = self._when(raw, "date_modified", problems)
        completed = self._when(raw, "date_completed", problems)
        if problems:
            raise InvalidRecord(label, problems)
        status = map_status(raw_status, paid_at is not None, self.extra_statuses)
        return build(
            Order,
            {
                "id": order_id,
                "number": text(raw.get("number")) or order_id,
                "customer_id": customer_ref,
                "email": text(billing.get("email")) or None,
                "status": status,
                "raw_status": raw_status,
                "currency": text(raw.get("currency")),
                **totals,
                "created_at": created,
                "modified_at": modified,
                "paid_at": paid_at,
                "completed_at": completed,
                "lines": lines,
                "refunds": refunds,
                "coupons": coupons,
                "payment_method": text(raw.get("payment_method")),
                "client_ip": text(raw.get("customer_ip_address")),
                "user_agent": text(raw.get("customer_user_agent")),
                "billing_first_name": text(billing.get("first_name")),
                "billing_last_name": text(billing.get("last_name")),
                "billing_phone": text(billing.get("phone")),
                "billing_city": text(billing.get("city")),
                "billing_state": text(billing.get("state")),
                "billing_postcode": text(billing.get("postcode")),
                "billing_country": text(billing.get("country")).upper(),
                "meta": {k: v for k, v in self._meta(raw).items()
                         if k.startswith(self.meta_prefix)
                         or k in ("_meta_event_id", "meta_event_id")},
                **self.shipment(raw),
                "source": self._source("order", order_id),
            },
            label,
        )

    def refund(self, raw: Mapping[str, Any], order_id: str | None = None) -> RefundRecord:
        """A refund as ``GET refunds`` (its order in ``parent_id``) or ``GET
        orders/{order_id}/refunds`` lists it: a positive ``amount`` and its date
        (``date_created_gmt``), which the order's own ``refunds[]`` lacks."""
        problems: list[str] = []
        refund_id = _id(raw.get("id"))
        label = _label("refund", refund_id, raw)
        if refund_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        if order_id is None:
            order_id = _id(raw.get("parent_id"))
            if order_id is None:
                raise InvalidRecord(label, ["field 'parent_id': missing or not a positive "
                                            "integer"])
        amount = money(raw.get("amount"), "amount", problems)
        created = self._when(raw, "date_created", problems)
        if problems:
            raise InvalidRecord(label, problems)
        return build(
            RefundRecord,
            {"id": refund_id, "order_id": order_id, "amount": abs(amount),
             "reason": text(raw.get("reason")), "at": created,
             "source": self._source("refund", refund_id)},
            label,
        )

    def review(self, raw: Mapping[str, Any]) -> Review:
        """A product review; only ``approved`` ones count as the shop's public voice."""
        problems: list[str] = []
        review_id = _id(raw.get("id"))
        label = _label("product review", review_id, raw)
        if review_id is None:
            raise InvalidRecord(label, ["field 'id': missing or not a positive integer"])
        created = self._when(raw, "date_created", problems)
        if problems:
            raise InvalidRecord(label, problems)
        return build(
            Review,
            {
                "id": review_id,
                "product_id": _id(raw.get("product_id")) or "0",
                "product_name": (text(raw.get("product_name")) or "")[:200],
                "email": text(raw.get("reviewer_email")) or None,
                "reviewer": text(raw.get("reviewer")),
                "rating": raw.get("rating"),
                "verified": bool(raw.get("verified")),
                "approved": text(raw.get("status") or "approved") == "approved",
                "created_at": created,
                "source": self._source("product_review", review_id),
            },
            label,
        )
