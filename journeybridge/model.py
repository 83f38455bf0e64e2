"""The journey model: people, their orders, carts, reviews and newsletter opt-ins, and the
time-ordered touchpoints built from them.

Every model is an immutable pydantic v2 model. Money is ``Decimal`` with an ISO 4217 currency,
never float; every timestamp is timezone-aware UTC (naive timestamps are rejected, aware ones
are converted to UTC). Platform quirks (strings for numbers, zero dates, local time zones) are
handled by the adapters before records reach these models.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

__all__ = [
    "Cart",
    "CartLine",
    "CurrencyCode",
    "Journey",
    "Money",
    "NewsletterOptIn",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Person",
    "Platform",
    "Refund",
    "RefundRecord",
    "Review",
    "SourceRef",
    "StatusChange",
    "Touchpoint",
    "TouchpointKind",
    "UtcDateTime",
    "normalize_email",
]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("timestamp must be timezone-aware (got a naive datetime)")
    return value.astimezone(timezone.utc)


UtcDateTime = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware timestamp, stored in UTC."""

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _check_currency(value: str) -> str:
    code = value.strip().upper()
    if not _CURRENCY_RE.match(code):
        raise ValueError(f"currency must be a three-letter ISO 4217 code, got {value!r}")
    return code


CurrencyCode = Annotated[str, AfterValidator(_check_currency)]
"""An ISO 4217 currency code such as ``EUR`` (upper-cased on input)."""


def _reject_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must be a Decimal or a decimal string, not a float")
    return value


AMOUNT_LIMIT = Decimal(10) ** 15
"""No amount reaches it (the adapters refuse larger ones): a stored ``1e309`` or ``1e26`` is
damage, refused on decoding, never fed to arithmetic that cannot hold it."""


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if abs(value) >= AMOUNT_LIMIT:
        raise ValueError("amount must be below 10**15")
    return value


Amount = Annotated[Decimal, AfterValidator(_finite)]


def normalize_email(value: str | None) -> str | None:
    """Return the e-mail trimmed and lower-cased, or None when it is empty or has no ``@``.

    This is the identity rule for guests: ``" Anna.Gast@Example.com"`` and
    ``"anna.gast@example.com"`` are the same person.
    """
    if value is None:
        return None
    email = value.strip().lower()
    if not email or "@" not in email:
        return None
    return email


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Platform(str, Enum):
    """The shop platforms journeybridge speaks to."""

    WOOCOMMERCE = "woocommerce"
    PRESTASHOP = "prestashop"


class Money(_Frozen):
    """An exact amount in one currency."""

    amount: Amount
    currency: CurrencyCode

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _reject_float(value)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class SourceRef(_Frozen):
    """Where a fact came from: platform, resource and the record's id in the shop."""

    platform: Platform
    resource: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform.value} {self.resource} {self.id}"


class NewsletterOptIn(_Frozen):
    """A newsletter subscription state; ``at`` is when it was given, where the shop knows."""

    subscribed: bool
    at: UtcDateTime | None = None


class Person(_Frozen):
    """A registered customer or a guest.

    Identity (``key``): ``"customer:<id>"`` for registered customers, ``"guest:<email>"`` with
    the normalized e-mail for guests, so one guest with three orders is one person. ``shop``
    names the shop the person belongs to. ``birthday`` (a date) and ``gender`` (``m``, ``f``,
    or empty for unknown) are filled where the shop records them (PrestaShop).
    """

    shop: str
    platform: Platform
    key: str
    customer_id: str | None = None
    is_guest: bool = False
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    birthday: date | None = None
    gender: str = ""
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    registered_at: UtcDateTime | None = None
    modified_at: UtcDateTime | None = None
    newsletter: NewsletterOptIn | None = None
    meta: dict[str, str] = Field(default_factory=dict)
    source: SourceRef | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        email = normalize_email(value)
        if email is None:
            raise ValueError(f"not an e-mail address: {value!r}")
        return email

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str) -> str:
        if value not in ("", "m", "f"):
            raise ValueError(f"gender must be 'm', 'f' or empty (unknown), got {value!r}")
        return value

    @model_validator(mode="after")
    def _identity(self) -> Person:
        if self.is_guest:
            if self.email is None:
                raise ValueError("a guest needs an e-mail address (it is the guest's identity)")
            if self.key != f"guest:{self.email}":
                raise ValueError(f"a guest's key must be 'guest:{self.email}', got {self.key!r}")
        else:
            if not self.customer_id:
                raise ValueError("a registered customer needs a customer_id")
            if self.key != f"customer:{self.customer_id}":
                raise ValueError(
                    f"a customer's key must be 'customer:{self.customer_id}', got {self.key!r}"
                )
        return self

    @property
    def display_name(self) -> str:
        """First and last name, or the e-mail, or the key: something a person can read."""
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.key


class OrderStatus(str, Enum):
    """Normalized order status; the shop's own status is kept beside it in ``raw_status``."""

    CHECKOUT_STARTED = "checkout_started"
    PENDING_PAYMENT = "pending_payment"
    ON_HOLD = "on_hold"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"

    @property
    def is_paid(self) -> bool:
        """True where money was received and not (fully) given back."""
        return self in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)

    @property
    def is_open_checkout(self) -> bool:
        """True for an order that shows purchase intent but no payment yet."""
        return self in (
            OrderStatus.CHECKOUT_STARTED,
            OrderStatus.PENDING_PAYMENT,
            OrderStatus.ON_HOLD,
            OrderStatus.FAILED,
        )


class StatusChange(_Frozen):
    """One step in an order's history: the normalized status reached, and when."""

    status: OrderStatus
    raw_status: str
    at: UtcDateTime


class OrderLine(_Frozen):
    """One product line of an order or a cart-like record; prices are tax-exclusive totals."""

    product_id: str
    variation_id: str | None = None
    name: str = ""
    sku: str = ""
    quantity: int = Field(ge=0)
    unit_price: Amount
    total: Amount

    @field_validator("unit_price", "total", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _reject_float(value)


class Refund(_Frozen):
    """Money given back on an order (``amount`` is positive)."""

    id: str
    amount: Amount = Field(ge=0)
    reason: str = ""
    at: UtcDateTime | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _reject_float(value)


class RefundRecord(_Frozen):
    """A refund read on its own (WooCommerce's refunds collection, PrestaShop's credit slips):
    it gives the refund of ``order_id`` with this ``id`` its date and amount, and adds a refund
    the order itself does not list."""

    id: str
    order_id: str
    amount: Amount = Field(ge=0)
    reason: str = ""
    at: UtcDateTime | None = None
    source: SourceRef | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _reject_float(value)


class Order(_Frozen):
    """An order as the journey sees it.

    ``customer_id`` is None for guest orders; ``email`` is the normalized billing e-mail.
    ``tracking_number``, ``carrier`` and ``shipped_at`` describe the shipment where the shop
    keeps them (PrestaShop ``order_carriers``; WooCommerce shipment-tracking plugins' meta).
    """

    id: str
    number: str = ""
    customer_id: str | None = None
    email: str | None = None
    status: OrderStatus
    raw_status: str
    currency: CurrencyCode
    total: Amount
    total_tax: Amount = Decimal("0")
    shipping_total: Amount = Decimal("0")
    discount_total: Amount = Decimal("0")
    created_at: UtcDateTime
    modified_at: UtcDateTime | None = None
    paid_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    lines: tuple[OrderLine, ...] = ()
    refunds: tuple[Refund, ...] = ()
    coupons: tuple[str, ...] = ()
    history: tuple[StatusChange, ...] = ()
    cart_id: str | None = None
    payment_method: str = ""
    client_ip: str = ""
    user_agent: str = ""
    billing_first_name: str = ""
    billing_last_name: str = ""
    billing_phone: str = ""
    billing_city: str = ""
    billing_state: str = ""
    billing_postcode: str = ""
    billing_country: str = ""
    tracking_number: str | None = None
    carrier: str | None = None
    shipped_at: UtcDateTime | None = None
    meta: dict[str, str] = Field(default_factory=dict)
    source: SourceRef | None = None

    @field_validator("total", "total_tax", "shipping_total", "discount_total", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _reject_float(value)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        return normalize_email(value) if isinstance(value, str) else value

    @property
    def refunded_amount(self) -> Decimal:
        """The sum of all refunds on the order."""
        return sum((r.amount for r in self.refunds), Decimal("0"))

    @property
    def money(self) -> Money:
        """The order total as Money."""
        return Money(amount=self.total, currency=self.currency)


class CartLine(_Frozen):
    """A product in a cart."""

    product_id: str
    variation_id: str | None = None
    quantity: int = Field(ge=0)


class Cart(_Frozen):
    """A saved cart. ``order_id`` is set when an order was placed from it; a cart without one
    was left behind."""

    id: str
    customer_id: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime | None = None
    currency: CurrencyCode | None = None
    lines: tuple[CartLine, ...] = ()
    order_id: str | None = None
    source: SourceRef | None = None


class Review(_Frozen):
    """A product review; ``email`` (normalized) links it to a person."""

    id: str
    product_id: str
    product_name: str = ""
    email: str | None = None
    customer_id: str | None = None
    reviewer: str = ""
    rating: int = Field(ge=0, le=5)
    verified: bool = False
    approved: bool = True
    created_at: UtcDateTime
    source: SourceRef | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        return normalize_email(value) if isinstance(value, str) else value


class TouchpointKind(str, Enum):
    """What happened at a touchpoint."""

    REGISTERED = "registered"
    SUBSCRIBED = "subscribed"
    CART = "cart"
    CHECKOUT_STARTED = "checkout_started"
    PAYMENT_FAILED = "payment_failed"
    ON_HOLD = "on_hold"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    REVIEWED = "reviewed"


class Touchpoint(_Frozen):
    """One moment in a person's journey: what, when, how much, and the record it came from."""

    kind: TouchpointKind
    at: UtcDateTime
    amount: Money | None = None
    source: SourceRef
    detail: str = ""


class Journey(_Frozen):
    """One person, the records that belong to them, and their touchpoints in time order."""

    person: Person
    orders: tuple[Order, ...] = ()
    carts: tuple[Cart, ...] = ()
    reviews: tuple[Review, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> Journey:
        times = [t.at for t in self.touchpoints]
        if any(later < earlier for earlier, later in itertools.pairwise(times)):
            raise ValueError("touchpoints must be in time order")
        return self

    @property
    def key(self) -> str:
        """The person's identity key."""
        return self.person.key
