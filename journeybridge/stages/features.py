"""The documented per-person features that segment and persona rules can use.

Every feature is computed from the journey as of ``now`` (nothing later counts)."""

from __future__ import annotations

from decimal import Decimal

from journeybridge.model import Journey, OrderStatus
from journeybridge.stages.facts import PersonFacts
from journeybridge.stages.rfm import RfmScore

__all__ = ["FEATURES", "FeatureValue", "features_of"]

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


def features_of(journey: Journey, facts: PersonFacts, stage: str,
                rfm: RfmScore | None = None) -> dict[str, FeatureValue]:
    """The feature values of one person (keys as in :data:`FEATURES`); the RFM features come
    from ``rfm`` (scored against the whole shop, see :mod:`.rfm`), None/'' without it."""
    now = facts.now
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
        "days_since_last_order": (now - last).days if last else None,
        "days_since_first_order": (now - first).days if first else None,
        "days_known": (now - facts.known_since).days if facts.known_since else 0,
        "products": frozenset(products),
        "skus": frozenset(skus),
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
        "stage": stage,
        "recency_score": rfm.recency if rfm else None,
        "frequency_score": rfm.frequency if rfm else None,
        "monetary_score": rfm.monetary if rfm else None,
        "rfm_group": rfm.group if rfm else "",
    }
