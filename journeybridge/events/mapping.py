"""Journeys to Meta Conversions API server events: which touchpoint becomes which event, with
which id, source, page and customer information. Pure: no I/O, no clock.

Event mapping (one event per record, at the touchpoint's time, ``event_time`` in Unix seconds):

=====================  ===================================================================
touchpoint             event
=====================  ===================================================================
account created        ``CompleteRegistration``
newsletter opt-in      ``Subscribe`` (or ``Lead``: ``newsletter_event``)
cart (PrestaShop)      ``AddToCart`` with ``contents`` (id, quantity) and the cart currency
checkout started /     ``InitiateCheckout`` once per order (its first such touchpoint), with
pending payment        value, currency, contents, num_items
order paid             ``Purchase`` once per order: ``value`` = the order total (tax and
                       shipping included, as the WooCommerce plugin reports it), currency,
                       ``contents`` [{id, quantity, item_price}], content_ids, num_items,
                       ``order_id``
refund, cancellation,  nothing: Meta has no refund event and a Purchase cannot be taken back.
shipped, delivered,    An order refunded in full or cancelled before its Purchase was exported
failed, review         is not sent at all (counted as ``purchase_refunded_or_cancelled``); a
                       partial refund leaves the Purchase as it was paid.
=====================  ===================================================================

Content ids are the variation id where there is one, else the product id (what the official
WooCommerce plugin puts in its catalogue by default).

Event ids (``event_id``), stable across runs so Meta and :mod:`.sent` de-duplicate:

* ``Purchase`` of a WooCommerce order that carries the official plugin's ``_meta_event_id``
  (facebook-for-woocommerce since February 2026 stores the one UUID its pixel and its server
  both use for that order's Purchase): that value, so Meta de-duplicates our event against the
  plugin's browser event. The REST API returns this ``_``-key in an order's ``meta_data`` (seen
  on a real WooCommerce 10.0.2); the adapter must keep it in ``Order.meta``.
* Everything else: a UUID 5 of (shop, record, event name), e.g. ``uuid5(ns, "myshop|order:1234|
  Purchase")``. The plugin's other events use random UUIDs and PrestaShop's ps_facebook uses
  PHP ``uniqid``: neither can be derived from shop data, so no id could match theirs; ours at
  least never repeats, so reruns and overlapping windows are de-duplicated. The shop part is
  the configured shop name: renaming a shop changes every id.

Action source: ``website`` when the browser's user agent is known (WooCommerce orders carry it,
and Meta requires ``client_user_agent`` for website events). Account creation and newsletter
opt-in borrow the user agent and IP of an order the person placed within ``session_minutes`` of
it (registration during checkout is the usual way). Without a user agent the event's source is
``fallback_action_source`` (default ``other``): ``system_generated`` is Meta's word for
conversions that happen by themselves (subscription renewals), which shop orders are not.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from journeybridge.adapters import event_pages
from journeybridge.events.consent import ConsentPolicy, decide_consent
from journeybridge.events.normalize import CustomerInfo, hash_user_data
from journeybridge.model import (
    Cart,
    Journey,
    Order,
    OrderLine,
    OrderStatus,
    Touchpoint,
    TouchpointKind,
)

__all__ = [
    "ID_NAMESPACE",
    "EventSettings",
    "MappedEvents",
    "ServerEvent",
    "deterministic_event_id",
    "journey_events",
    "map_journeys",
    "wire_events",
]

ID_NAMESPACE = uuid.UUID("5b0e2a43-6a51-4c8e-9a59-3f1d2c7e8b10")
"""The UUID 5 namespace of journeybridge's deterministic event ids (never change it)."""

PLUGIN_EVENT_ID_KEYS = ("_meta_event_id", "meta_event_id")

ActionSource = Literal["website", "email", "app", "phone_call", "chat", "physical_store",
                       "system_generated", "business_messaging", "other"]


class EventSettings(BaseModel):
    """How one shop's journeys become events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shop_url: str
    shop_id: str | None = None
    newsletter_event: Literal["Subscribe", "Lead"] = "Subscribe"
    fallback_action_source: ActionSource = "other"
    session_minutes: int = Field(30, ge=0, le=24 * 60)

    @field_validator("shop_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("shop_url must start with http:// or https://")
        return value


class ServerEvent(BaseModel):
    """One Conversions API server event. ``to_wire()`` is exactly what is sent; ``person_key``
    and ``source`` stay local (a guest's key holds an e-mail address)."""

    model_config = ConfigDict(frozen=True)

    event_name: str
    event_time: int
    event_id: str
    action_source: ActionSource
    event_source_url: str | None = None
    user_data: dict[str, str] = Field(default_factory=dict)
    custom_data: dict[str, Any] = Field(default_factory=dict)
    limited_data_use: bool = False
    person_key: str = Field("", exclude=True)
    source: str = Field("", exclude=True)

    def to_wire(self) -> dict[str, Any]:
        """The event as the Graph API takes it (only hashed or non-personal values)."""
        wire: dict[str, Any] = {
            "event_name": self.event_name,
            "event_time": self.event_time,
            "event_id": self.event_id,
            "action_source": self.action_source,
        }
        if self.event_source_url:
            wire["event_source_url"] = self.event_source_url
        wire["user_data"] = dict(self.user_data)
        if self.custom_data:
            wire["custom_data"] = dict(self.custom_data)
        if self.limited_data_use:
            wire["data_processing_options"] = ["LDU"]
            wire["data_processing_options_country"] = 0
            wire["data_processing_options_state"] = 0
        return wire


@dataclass
class MappedEvents:
    """The events of many journeys, and what was left out and why (counts only)."""

    events: list[ServerEvent] = field(default_factory=list)
    people: int = 0
    people_left_out: Counter[str] = field(default_factory=Counter)
    people_limited: int = 0
    not_sent: Counter[str] = field(default_factory=Counter)
    dropped_fields: Counter[str] = field(default_factory=Counter)

    def by_name(self) -> dict[str, int]:
        """Events per event name."""
        return dict(Counter(e.event_name for e in self.events))


def deterministic_event_id(shop: str, record: str, event_name: str) -> str:
    """A UUID 5 of shop, record (``order:1234``) and event name: the same inputs always give
    the same id, different shops never collide."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{shop}|{record}|{event_name}"))


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _content_id(line: OrderLine) -> str:
    return line.variation_id or line.product_id


def _order_custom_data(order: Order, *, purchase: bool) -> dict[str, Any]:
    lines = [line for line in order.lines if line.quantity > 0]
    data: dict[str, Any] = {
        "value": _money(order.total),
        "currency": order.currency,
        "content_type": "product",
        "content_ids": [_content_id(line) for line in lines],
        "contents": [{"id": _content_id(line), "quantity": line.quantity,
                      "item_price": _money(line.unit_price)} for line in lines],
        "num_items": sum(line.quantity for line in lines),
    }
    if purchase:
        data["order_id"] = order.id
    return data


def _cart_custom_data(cart: Cart) -> dict[str, Any]:
    lines = [line for line in cart.lines if line.quantity > 0]
    data: dict[str, Any] = {
        "content_type": "product",
        "content_ids": [line.variation_id or line.product_id for line in lines],
        "contents": [{"id": line.variation_id or line.product_id, "quantity": line.quantity}
                     for line in lines],
        "num_items": sum(line.quantity for line in lines),
    }
    if cart.currency:
        data["currency"] = cart.currency
    return data


def _person_info(journey: Journey, ip: str = "", agent: str = "") -> CustomerInfo:
    p = journey.person
    return CustomerInfo(email=p.email or "", phone=p.phone, first_name=p.first_name,
                        last_name=p.last_name, city=p.city, state=p.state, zip=p.postcode,
                        country=p.country, gender=p.gender,
                        date_of_birth=p.birthday.isoformat() if p.birthday else "",
                        external_id=p.customer_id or "",
                        client_ip_address=ip, client_user_agent=agent)


def _order_info(journey: Journey, order: Order) -> CustomerInfo:
    p = journey.person
    return CustomerInfo(
        email=order.email or p.email or "", phone=order.billing_phone or p.phone,
        first_name=order.billing_first_name or p.first_name,
        last_name=order.billing_last_name or p.last_name,
        city=order.billing_city or p.city, state=order.billing_state or p.state,
        zip=order.billing_postcode or p.postcode,
        country=order.billing_country or p.country, gender=p.gender,
        date_of_birth=p.birthday.isoformat() if p.birthday else "",
        external_id=order.customer_id or p.customer_id or "",
        client_ip_address=order.client_ip, client_user_agent=order.user_agent)


def _session_order(journey: Journey, at: datetime, minutes: int) -> Order | None:
    """The order placed closest to ``at`` within ``minutes`` that knows the browser."""
    window = timedelta(minutes=minutes)
    near = [o for o in journey.orders if o.user_agent and abs(o.created_at - at) <= window]
    return min(near, key=lambda o: abs(o.created_at - at), default=None)


class _Builder:
    def __init__(self, journey: Journey, settings: EventSettings, limited: bool,
                 result: MappedEvents) -> None:
        self.journey = journey
        self.settings = settings
        self.limited = limited
        self.result = result
        self.shop = settings.shop_id or journey.person.shop
        self.paths = event_pages(journey.person.platform.value)
        self.orders = {o.id: o for o in journey.orders}
        self.carts = {c.id: c for c in journey.carts}
        self.events: list[ServerEvent] = []
        self.seen: set[str] = set()

    def add(self, name: str, point: Touchpoint, record: str, info: CustomerInfo,
            custom: dict[str, Any], *, event_id: str | None = None,
            order_id: str = "") -> None:
        eid = event_id or deterministic_event_id(self.shop, record, name)
        if eid in self.seen:
            return
        self.seen.add(eid)
        hashed = hash_user_data(info)
        self.result.dropped_fields.update(hashed.problems)
        agent = hashed.data.get("client_user_agent")
        source: ActionSource = "website" if agent else self.settings.fallback_action_source
        path = self.paths[name].format(order_id=order_id)
        self.events.append(ServerEvent(
            event_name=name, event_time=int(point.at.timestamp()), event_id=eid,
            action_source=source, event_source_url=self.settings.shop_url + path,
            user_data=hashed.as_dict(), custom_data=custom, limited_data_use=self.limited,
            person_key=self.journey.key, source=f"{point.source.resource}:{point.source.id}"))

    def person_event(self, name: str, point: Touchpoint) -> None:
        session = _session_order(self.journey, point.at, self.settings.session_minutes)
        info = _person_info(self.journey, session.client_ip if session else "",
                            session.user_agent if session else "")
        self.add(name, point, f"{point.source.resource}:{point.source.id}", info, {})

    def order_event(self, name: str, point: Touchpoint) -> None:
        order = self.orders.get(point.source.id)
        if order is None:
            self.result.not_sent["touchpoint without its order"] += 1
            return
        purchase = name == "Purchase"
        if purchase and order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
            self.result.not_sent["purchase_refunded_or_cancelled"] += 1
            return
        plugin_id = None
        if purchase:
            plugin_id = next((order.meta[k] for k in PLUGIN_EVENT_ID_KEYS
                              if order.meta.get(k)), None)
        self.add(name, point, f"order:{order.id}", _order_info(self.journey, order),
                 _order_custom_data(order, purchase=purchase), event_id=plugin_id,
                 order_id=order.id)

    def cart_event(self, point: Touchpoint) -> None:
        cart = self.carts.get(point.source.id)
        if cart is None or not cart.lines:
            self.result.not_sent["empty or unknown cart"] += 1
            return
        self.add("AddToCart", point, f"cart:{cart.id}", _person_info(self.journey),
                 _cart_custom_data(cart))


def journey_events(journey: Journey, settings: EventSettings, *, limited: bool = False,
                   result: MappedEvents | None = None) -> list[ServerEvent]:
    """The server events of one journey, in time order: at most one per (record, event name).
    ``limited`` marks them for Limited Data Use. Problems (dropped fields, skipped Purchases)
    are counted in ``result`` when given."""
    builder = _Builder(journey, settings, limited, result or MappedEvents())
    for point in journey.touchpoints:
        kind = point.kind
        if kind is TouchpointKind.REGISTERED:
            builder.person_event("CompleteRegistration", point)
        elif kind is TouchpointKind.SUBSCRIBED:
            builder.person_event(settings.newsletter_event, point)
        elif kind is TouchpointKind.CART:
            builder.cart_event(point)
        elif kind is TouchpointKind.CHECKOUT_STARTED:
            builder.order_event("InitiateCheckout", point)
        elif kind is TouchpointKind.PAID:
            builder.order_event("Purchase", point)
    return builder.events


def map_journeys(
    journeys: Iterable[Journey],
    settings: EventSettings,
    consent: ConsentPolicy | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> MappedEvents:
    """Every event of ``journeys`` with ``since <= event_time < until`` (either bound may be
    open), after the consent policy: people without consent are left out (counted by reason)
    or marked for Limited Data Use. Sorted by time, then event id."""
    policy = consent or ConsentPolicy()
    result = MappedEvents()
    for journey in journeys:
        result.people += 1
        decision = decide_consent(journey, policy)
        if not decision.send:
            result.people_left_out[decision.reason] += 1
            continue
        if decision.limited:
            result.people_limited += 1
        for event in journey_events(journey, settings, limited=decision.limited,
                                    result=result):
            if since is not None and event.event_time < since.timestamp():
                continue
            if until is not None and event.event_time >= until.timestamp():
                continue
            result.events.append(event)
    result.events.sort(key=lambda e: (e.event_time, e.event_id))
    return result


def wire_events(events: Sequence[ServerEvent]) -> list[dict[str, Any]]:
    """The wire form of ``events`` (what sinks write and send)."""
    return [event.to_wire() for event in events]
