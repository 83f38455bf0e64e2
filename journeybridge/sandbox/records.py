"""The neutral records of the sandbox shop and the vocabulary they use.

Platform-neutral: statuses are named as WooCommerce names them, all timestamps are UTC, money is
``Decimal``. The platform layers render these records in their own shapes.

Identifiers: registered customers have id ``person index + 1``; order ids start at
:data:`FIRST_ORDER_ID` and review ids at :data:`FIRST_REVIEW_ID`, both rising with creation time.
The ``*_CODE`` integers are how the population's numpy index stores statuses and phases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

SHOP_TIMEZONE = ZoneInfo("Europe/Amsterdam")
FIRST_ORDER_ID = 100
FIRST_REVIEW_ID = 2
DAY = 86_400
CENT = Decimal("0.01")


class OrderStatus(str, Enum):
    """Order statuses as WooCommerce names them (the neutral vocabulary of the sandbox)."""

    PENDING = "pending"
    PROCESSING = "processing"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"
    CHECKOUT_DRAFT = "checkout-draft"
    TRASH = "trash"


#: Status codes stored in the order index, in this order.
STATUSES: tuple[OrderStatus, ...] = tuple(OrderStatus)
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
(PENDING_CODE, PROCESSING_CODE, ON_HOLD_CODE, COMPLETED_CODE, CANCELLED_CODE, REFUNDED_CODE,
 FAILED_CODE, DRAFT_CODE, TRASH_CODE) = range(len(STATUSES))


class Phase(str, Enum):
    """The journey phase a generated person was created to represent."""

    STAFF = "staff"
    REGISTERED_ONLY = "registered_only"
    NEWSLETTER_ONLY = "newsletter_only"
    ABANDONED = "abandoned"
    FIRST_BUYER = "first_buyer"
    REPEAT_BUYER = "repeat_buyer"
    LAPSED = "lapsed"
    GUEST = "guest"
    GUEST_THEN_REGISTERED = "guest_then_registered"


PHASES: tuple[Phase, ...] = tuple(Phase)
#: Phase codes stored in the person index (positions in :data:`PHASES`).
PHASE_CODE = {p: i for i, p in enumerate(PHASES)}


class Role(str, Enum):
    """WordPress user roles used by the sandbox."""

    CUSTOMER = "customer"
    SUBSCRIBER = "subscriber"
    ADMINISTRATOR = "administrator"
    SHOP_MANAGER = "shop_manager"


ROLES: tuple[Role, ...] = tuple(Role)


@dataclass(frozen=True)
class Product:
    """One catalogue product; ``price`` excludes tax (the shop charges none)."""

    id: int
    name: str
    sku: str
    price: Decimal
    slug: str


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent."""
    return value.quantize(CENT)


class Address(NamedTuple):
    """A postal address plus contact fields, as a shop stores it on a person or an order."""

    first_name: str
    last_name: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    email: str
    phone: str


EMPTY_ADDRESS = Address("", "", "", "", "", "", "", "", "", "", "")


class MetaEntry(NamedTuple):
    """One custom field (WordPress meta row): numeric id, key and value."""

    id: int
    key: str
    value: Any


class Customer(NamedTuple):
    """A registered account (any role) in platform-neutral form."""

    id: int
    person_index: int
    phase: Phase
    role: Role
    username: str
    email: str
    first_name: str
    last_name: str
    billing: Address
    shipping: Address
    date_created: datetime
    date_modified: datetime | None
    is_paying_customer: bool
    newsletter_optin_at: datetime | None
    meta_data: tuple[MetaEntry, ...]
    rhythm_days: int


class Guest(NamedTuple):
    """A person who only ever bought as a guest (customer id 0 on every order)."""

    person_index: int
    email: str
    first_name: str
    last_name: str


class LineItem(NamedTuple):
    """One order line; ``total == price * quantity`` exactly."""

    id: int
    product_id: int
    name: str
    sku: str
    quantity: int
    price: Decimal
    total: Decimal


class Refund(NamedTuple):
    """A refund of an order; ``amount`` is positive."""

    id: int
    order_id: int
    amount: Decimal
    reason: str
    date_created: datetime


class Order(NamedTuple):
    """An order in platform-neutral form; ``total == items_total + shipping_total + total_tax``."""

    id: int
    person_index: int
    customer_id: int
    status: OrderStatus
    previous_status: OrderStatus | None
    date_created: datetime
    date_modified: datetime
    date_paid: datetime | None
    date_completed: datetime | None
    billing: Address
    shipping: Address
    line_items: tuple[LineItem, ...]
    shipping_line_id: int
    shipping_total: Decimal
    total_tax: Decimal
    total: Decimal
    refunds: tuple[Refund, ...]
    meta_data: tuple[MetaEntry, ...]
    order_key: str
    transaction_id: str
    customer_ip_address: str
    customer_user_agent: str
    payment_method: str
    payment_method_title: str
    created_via: str

    @property
    def is_trash(self) -> bool:
        """True when the order is in the trash (invisible to default listings)."""
        return self.status is OrderStatus.TRASH

    @property
    def items_total(self) -> Decimal:
        """Sum of the line totals."""
        return sum((li.total for li in self.line_items), Decimal("0.00"))


class Review(NamedTuple):
    """A product review; ``verified`` means the reviewer bought the product."""

    id: int
    person_index: int
    order_id: int | None
    product_id: int
    reviewer: str
    reviewer_email: str
    review: str
    rating: int
    verified: bool
    status: str
    date_created: datetime


class Cart(NamedTuple):
    """A shopping cart: ``kind`` is ``"order"`` (it became order ``order_id``), ``"abandoned"``
    (left behind by registered person ``person_index``) or ``"visitor"`` (an unknown visitor,
    ``person_index`` -1). ``visitor_id`` numbers the browser session that filled it."""

    id: int
    kind: str
    person_index: int
    order_id: int | None
    visitor_id: int
    date_created: datetime
    date_modified: datetime
    lines: tuple[tuple[int, int], ...]


CART_KINDS = ("order", "abandoned", "visitor")

