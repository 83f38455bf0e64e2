"""The documented per-person features that segment and persona rules can use.

Every feature is computed from the journey as of ``now`` (nothing later counts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from journeybridge.model import Journey, OrderStatus
from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.rfm import RfmScore
from journeybridge.stages.table import DAY_US, micros

__all__ = ["FEATURES", "FeatureValue", "feature_base", "features_at", "features_of", "rfm_input"]

FeatureValue = int | float | str | bool | None | frozenset[str]

FEATURES: dict[str, str] = {
    "orders": "number of paid orders (distinct purchase days)",
    "total_spent": "money paid minus refunds, in the shop currency",
    "average_order_value": "total_spent / orders (0 without orders)",
    "days_since_last_order": "days since the latest paid order (None without one)",
    "days_since_first_order": "days since the first paid order (None without one)",
    "days_known": "days since the first touchpoint",
    "products": "set of product ids bought",
    "skus": "set of SKUs bought",
    "coupons_used": "number of paid orders with a coupon",
    "refunds": "number of refunds",
    "failed_payments": "number of orders whose payment failed",
    "reviews": "number of approved reviews",
    "average_rating": "mean rating of approved reviews (None without)",
    "country": "two-letter country code (upper case) or ''",
    "newsletter": "subscribed to the newsletter",
    "guest": "bought without an account",
    "registered": "has a customer account",
    "open_carts": "carts without an order",
    "stage": "the stage decided for the person (e.g. 'loyalty')",
    "recency_score": "RFM recency score 1-5 by the shop's quintiles (None without a purchase)",
    "frequency_score": "RFM frequency score 1-5 by the shop's quintiles (None without one)",
    "monetary_score": "RFM monetary score 1-5 by the shop's quintiles (None without one)",
    "rfm_group": "the named RFM group, e.g. 'Champions', 'At risk' ('' without a purchase)",
}


def feature_base(journey: Journey, facts: PersonFacts) -> dict[str, Any]:
    """The features of one person that do not move with the clock, as JSON-ready values
    (sets as sorted lists), plus the times the moving ones are counted from (``_last``,
    ``_first``, ``_known``: microseconds since 1970 UTC, or None). :func:`features_at` turns
    them into the features at a moment."""
    paid = [o for o in facts.orders if o.status.is_paid]
    products: set[str] = set()
    skus: set[str] = set()
    for seen in paid:
        for line in seen.order.lines:
            products.add(line.product_id)
            if line.sku:
                skus.add(line.sku)
    approved = [r for r in facts.reviews if r.approved]
    orders = facts.purchases
    spent = facts.total_spent
    average = (spent / orders) if orders else Decimal("0")
    last, first = facts.last_purchase, facts.first_purchase
    person = journey.person
    return {
        "orders": orders,
        "total_spent": float(spent),
        "average_order_value": float(round(average, 2)),
        "_last": _us(last),
        "_first": _us(first),
        "_known": _us(facts.known_since),
        "products": sorted(products),
        "skus": sorted(skus),
        "coupons_used": sum(1 for o in paid if o.order.coupons),
        "refunds": sum(len(o.order.refunds) for o in facts.orders),
        "failed_payments": sum(1 for o in facts.orders if o.status is OrderStatus.FAILED),
        "reviews": len(approved),
        "average_rating": (sum(r.rating for r in approved) / len(approved)) if approved
        else None,
        "country": (person.country or next((o.order.billing_country for o in facts.orders
                                            if o.order.billing_country), "")).upper(),
        "newsletter": facts.subscribed,
        "guest": person.is_guest,
        "registered": not person.is_guest,
        "open_carts": len(facts.open_carts),
    }


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else micros(moment)


def features_at(base: Mapping[str, Any], now_us: int, stage: str,
                rfm: RfmScore | None = None) -> dict[str, FeatureValue]:
    """The feature values (keys as in :data:`FEATURES`) at ``now_us`` (microseconds since
    1970 UTC) of a person whose :func:`feature_base` is ``base``, whose stage is ``stage``
    and whose RFM scores are ``rfm`` (scored against the whole shop, see :mod:`.rfm`;
    None/'' without): the same values :func:`features_of` gives from their journey."""
    out: dict[str, FeatureValue] = {k: v for k, v in base.items() if not k.startswith("_")}
    last, first, known = base["_last"], base["_first"], base["_known"]
    out["days_since_last_order"] = (now_us - last) // DAY_US if last is not None else None
    out["days_since_first_order"] = (now_us - first) // DAY_US if first is not None else None
    out["days_known"] = (now_us - known) // DAY_US if known is not None else 0
    out["products"] = frozenset(base["products"])
    out["skus"] = frozenset(base["skus"])
    out["stage"] = stage
    out["recency_score"] = rfm.recency if rfm else None
    out["frequency_score"] = rfm.frequency if rfm else None
    out["monetary_score"] = rfm.monetary if rfm else None
    out["rfm_group"] = rfm.group if rfm else ""
    return out


def rfm_input(base: Mapping[str, Any], now_us: int) -> tuple[float, int, float] | None:
    """What RFM scores a person by (days since the last purchase, purchases, money spent),
    from their :func:`feature_base` at ``now_us``, exactly as
    :func:`journeybridge.stages.rfm.rfm_values` gives it from their facts; None without a
    purchase."""
    last = base["_last"]
    if last is None:
        return None
    return ((now_us - last) / 10**6) / 86_400.0, int(base["orders"]), float(base["total_spent"])


def features_of(journey: Journey, facts: PersonFacts, stage: str,
                rfm: RfmScore | None = None) -> dict[str, FeatureValue]:
    """The feature values of one person (keys as in :data:`FEATURES`); the RFM features come
    from ``rfm`` (scored against the whole shop, see :mod:`.rfm`), None/'' without it."""
    return features_at(feature_base(journey, facts), micros(facts.now), stage, rfm)
