"""A deterministic, platform-neutral shop population that scales to a million customers.

The population is an *index* of compact numpy arrays (who exists, in which journey phase, how
many orders, when, in which status) built in one vectorised pass from ``(size, seed, now)``.
Everything else about a record (names, e-mail, line items, refunds) is derived on demand from a
per-record ``random.Random`` seeded with the record's identity, so reading one order or one page
costs O(page), never O(population).

Identifiers:

* registered customers are people ``0 .. size-1`` with customer id ``index + 1``;
* guests are people ``size .. size+guests-1``; their orders carry customer id ``0``;
* order ids start at :data:`FIRST_ORDER_ID` and rise with creation time;
* review ids start at :data:`FIRST_REVIEW_ID` and rise with creation time.

All timestamps are UTC. Rendering them in the shop's time zone is the platform layer's job.
Mutations for tests (``update_order``, ``add_order``, customer meta writes) live in a small
overlay guarded by a lock; the generated index is otherwise read-only.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

SHOP_TIMEZONE = ZoneInfo("Europe/Amsterdam")
CURRENCY = "EUR"
FIRST_ORDER_ID = 100
FIRST_REVIEW_ID = 2
_DAY = 86_400
_CENT = Decimal("0.01")

IntArray = npt.NDArray[np.int32]


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
_CODE = {s: i for i, s in enumerate(STATUSES)}
_PENDING, _PROCESSING, _ON_HOLD, _COMPLETED = 0, 1, 2, 3
_CANCELLED, _REFUNDED, _FAILED, _DRAFT, _TRASH = 4, 5, 6, 7, 8
#: Statuses whose orders were paid.
PAID_STATUSES = frozenset({OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.REFUNDED})


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
_P = {p: i for i, p in enumerate(PHASES)}


class Role(str, Enum):
    """WordPress user roles used by the sandbox."""

    CUSTOMER = "customer"
    SUBSCRIBER = "subscriber"
    ADMINISTRATOR = "administrator"
    SHOP_MANAGER = "shop_manager"


ROLES: tuple[Role, ...] = tuple(Role)

# Flags per order.
_F_PARTIAL_REFUND = 1
_F_GUEST = 2


@dataclass(frozen=True)
class Product:
    """One catalogue product; ``price`` excludes tax (the shop charges none)."""

    id: int
    name: str
    sku: str
    price: Decimal
    slug: str


def _catalogue() -> tuple[Product, ...]:
    rows = [
        ("Koffiebonen 1kg", "19.99"), ("Espressomachine", "349.00"), ("Melkopschuimer", "24.95"),
        ("Filterpapier (100)", "3.49"), ("Cadeaubon", "25.00"), ("Espresso blend 500g", "11.50"),
        ("Decaf bonen 250g", "7.95"), ("Handmolen", "54.00"), ("Moka pot 6 kops", "32.50"),
        ("Barista tamper", "18.75"), ("Latte glazen (2)", "12.00"), ("Ontkalker", "8.99"),
        ("Cold brew fles", "27.50"), ("Thee proefpakket", "14.95"), ("Chai siroop", "9.25"),
        ("Koffiekopjes (4)", "22.00"), ("Weegschaal met timer", "39.90"),
        ("Waterkoker zwanenhals", "64.95"), ("Abonnement bonen maand", "17.50"),
        ("Reinigingstabletten", "6.49"),
    ]
    out = []
    for i, (name, price) in enumerate(rows):
        out.append(Product(10 + i, name, f"JB-{i}", Decimal(price), _slug(name, "-")))
    return tuple(out)


_FIRST_NAMES = (
    "Zoë", "Jürgen", "Łukasz", "Anaïs", "Søren", "Renée", "Chloé", "François", "Małgorzata",
    "Björn", "Noël", "Inès", "José", "Eva", "Sanne", "Lotte", "Daan", "Bram", "Thomas", "Anna",
    "Emma", "Lucas", "Sophie", "Jan", "Peter", "Marie", "Julia", "Fleur", "Sem", "Mila", "Ahmed",
    "Fatima", "Yara", "Niels", "Kees", "Ingrid", "Wouter", "Elif", "Mehmet", "Agnieszka",
)
_LAST_NAMES = (
    "Müller", "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Dubois", "Lefèvre",
    "Kowalski", "Wiśniewska", "Nowak", "Schröder", "Öztürk", "Peeters", "Janssens",
    "van den Berg", "Ó Briain", "Núñez", "Fischer", "de Jong", "Mulder", "Bos", "Vos",
    "Hendriks", "Dekker", "Brouwer", "Weiß", "Lambert", "Martin",
)
_COUNTRIES = (
    # code, weight, cities, postcode pattern, national phone, international prefix
    ("NL", 60, ("Amsterdam", "Utrecht", "'s-Hertogenbosch", "Groningen", "Den Haag", "Zwolle"),
     "#### @@", "06########", "+31 6 ## ## ## ##"),
    ("BE", 14, ("Antwerpen", "Gent", "Liège", "Brugge"), "####", "04########",
     "+32 4## ## ## ##"),
    ("DE", 12, ("Köln", "Düsseldorf", "München", "Berlin"), "#####", "015#########",
     "+49 15# ########"),
    ("FR", 6, ("Paris", "Lille", "Nîmes"), "#####", "06########", "+33 6 ## ## ## ##"),
    ("PL", 5, ("Łódź", "Kraków", "Gdańsk"), "##-###", "5########", "+48 5## ### ###"),
    ("AT", 3, ("Wien", "Graz"), "####", "0664#######", "+43 664 #######"),
)
_STREETS = ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenlaan", "Hauptstraße",
            "Rue de la Gare", "ul. Długa", "Schoolstraat")
_DOMAINS = ("example.com", "example.nl", "example.org", "example.net")
_REVIEW_TEXTS_HIGH = ("Prima product, snel geleverd.", "Heerlijke koffie, bestel ik weer!",
                      "Sehr gut, gerne wieder.", "Très bon produit.", "Top kwaliteit.")
_REVIEW_TEXTS_LOW = ("Viel tegen, smaak is flauw.", "Kwam beschadigd aan.",
                     "Leider zu spät geliefert.", "Niet wat ik verwachtte.")
_REFUND_REASONS = ("beschadigd", "te laat geleverd", "verkeerd artikel", "")
_USER_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36")

_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae",
                           "đ": "d", "ı": "i"})


def _slug(text: str, sep: str = "") -> str:
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    ascii_text = plain.encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return sep.join(words)


_FIRST_SLUGS: tuple[str, ...] = ()
_LAST_SLUGS: tuple[str, ...] = ()


def _fill(pattern: str, rng: random.Random) -> str:
    out = []
    for c in pattern:
        if c == "#":
            out.append(str(rng.randrange(10)))
        elif c == "@":
            out.append(chr(ord("A") + rng.randrange(26)))
        else:
            out.append(c)
    return "".join(out)


_FIRST_SLUGS = tuple(_slug(n) for n in _FIRST_NAMES)
_LAST_SLUGS = tuple(_slug(n) for n in _LAST_NAMES)


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


# --------------------------------------------------------------------------------------------
# Neutral records (what tests compare against)
# --------------------------------------------------------------------------------------------


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


@dataclass
class _OrderOverlay:
    status: int | None = None
    modified: int | None = None
    paid: int | None = None
    completed: int | None = None
    meta: list[MetaEntry] | None = None


@dataclass
class _Extra:
    """An order added with :meth:`Population.add_order`."""

    person: int
    customer_id: int
    products: tuple[tuple[int, int], ...]
    meta: list[MetaEntry] = field(default_factory=list)


@dataclass
class _CartIndex:
    """Generated carts sorted by creation time (position + 1 is the cart id)."""

    kind: npt.NDArray[np.int8]
    ref: IntArray  # order index, person index or visitor number, by kind
    created: IntArray
    modified: IntArray
    order_cart: IntArray  # generated order index -> cart id


@dataclass
class _CartExtra:
    """A cart added after the index was built (an added order's, or :meth:`Population.add_cart`)."""

    kind: int
    ref: int
    created: int
    modified: int
    lines: tuple[tuple[int, int], ...]


# --------------------------------------------------------------------------------------------
# The population
# --------------------------------------------------------------------------------------------

# Showcase people at the lowest indices, so even tiny populations contain every phase.
# (phase, role, order statuses or None for random, rhythm days)
_SHOWCASE: tuple[tuple[Phase, Role, tuple[int, ...] | None, int], ...] = (
    (Phase.STAFF, Role.ADMINISTRATOR, (_COMPLETED, _COMPLETED, _PROCESSING), 120),
    (Phase.STAFF, Role.SHOP_MANAGER, (_COMPLETED,), 0),
    (Phase.REGISTERED_ONLY, Role.CUSTOMER, (), 0),
    (Phase.NEWSLETTER_ONLY, Role.CUSTOMER, (), 0),
    (Phase.NEWSLETTER_ONLY, Role.SUBSCRIBER, (), 0),
    (Phase.REGISTERED_ONLY, Role.SUBSCRIBER, (), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (_PENDING,), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (_FAILED,), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (_DRAFT,), 0),
    (Phase.ABANDONED, Role.CUSTOMER, (_FAILED, _PENDING), 0),
    *((Phase.FIRST_BUYER, Role.CUSTOMER, (code,), 0)
      for code in (_PENDING, _PROCESSING, _ON_HOLD, _COMPLETED, _CANCELLED, _REFUNDED,
                   _FAILED, _DRAFT)),
    (Phase.FIRST_BUYER, Role.CUSTOMER, (_TRASH,), 0),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 7),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 14),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 30),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 91),
    (Phase.REPEAT_BUYER, Role.CUSTOMER, None, 365),
    (Phase.LAPSED, Role.CUSTOMER, None, 120),
    (Phase.LAPSED, Role.CUSTOMER, None, 200),
    (Phase.GUEST_THEN_REGISTERED, Role.CUSTOMER, None, 60),
)
_SHOWCASE_GUESTS = 3
_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_CUM = list(itertools.accumulate([40, 3, 5, 12, 3, 15, 6, 2, 3, 2, 3, 6, 3, 5, 4, 3, 2, 1, 6, 5]))
_CUM_COFFEE = list(itertools.accumulate(
    [80, 0, 1, 8, 0, 30, 6, 0, 0, 0, 0, 3, 0, 2, 2, 0, 0, 0, 12, 3]))
_CUM_ITEMS = list(itertools.accumulate([50, 30, 15, 5]))
_CUM_QTY = list(itertools.accumulate([75, 20, 5]))
_RHYTHMS = np.array([7, 14, 30, 91, 365], dtype=np.int32)
_RHYTHM_P = np.array([0.15, 0.15, 0.35, 0.25, 0.10])
_RHYTHM_LAMBDA = np.array([12.0, 8.0, 5.0, 2.5, 1.2])


class Population:
    """A deterministic generated shop: customers, guests, orders and reviews.

    ``Population(size, seed, now)`` always yields the same data for the same arguments. ``size``
    is the number of registered accounts (all roles); about ``size // 20`` guest buyers come on
    top. ``now`` must be timezone-aware; it defaults to the current UTC time rounded down to the
    minute, and no generated date lies after it.
    """

    def __init__(self, size: int, seed: int = 1, now: datetime | None = None) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        if now is None:
            now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.size = size
        self.seed = seed
        self.now = now.astimezone(timezone.utc)
        self.products: tuple[Product, ...] = _catalogue()
        self._product_by_id = {p.id: p for p in self.products}
        self._now_ts = int(self.now.timestamp())
        self._origin = self._now_ts - 12 * 365 * _DAY
        self._lock = threading.RLock()
        self._version = 0
        self._built_at = datetime.now(timezone.utc)
        self._order_overlay: dict[int, _OrderOverlay] = {}
        self._extras: dict[int, _Extra] = {}
        self._customer_meta: dict[int, list[MetaEntry]] = {}
        self._customer_mod: dict[int, int] = {}
        self._person_extra_orders: dict[int, list[int]] = {}
        # Platform-only additions (PrestaShop): status history, carts, customer field writes.
        self._status_log: list[tuple[int, int, int, int]] = []  # (k, code, when, state tag)
        self._gen_status: npt.NDArray[np.int8] | None = None
        self._gen_modified: IntArray | None = None
        self._carts: _CartIndex | None = None
        self._cart_extras: list[_CartExtra] = []
        self._cart_cache: tuple[int, tuple[npt.NDArray[np.int8], IntArray, IntArray, IntArray]] \
            | None = None
        self._customer_fields: dict[int, dict[str, Any]] = {}
        #: Per-platform state kept with the population (e.g. the PrestaShop groups), by platform.
        self.extensions: dict[str, Any] = {}
        self._name_order: IntArray | None = None
        self._review_products: npt.NDArray[np.int16] | None = None
        self._cid_cache: tuple[int, IntArray] | None = None
        self._person_cache: dict[int, tuple[str, str, str, str, Address]] = {}
        self._build()
        self._meta_seq = itertools.count(10 ** (len(str(4 * (self.n_people + self._n_orders))) + 1))

    # ---------------------------------------------------------------- building the index
    def _build(self) -> None:
        n = self.size
        g = max(_SHOWCASE_GUESTS, n // 20)
        people = n + g
        self.n_guests = g
        self.n_people = people
        rng = np.random.default_rng([self.seed, n, self._now_ts])
        now_rel = self._now_ts - self._origin
        shop_start = now_rel - 6 * 365 * _DAY

        phase = np.empty(people, dtype=np.int8)
        role = np.zeros(people, dtype=np.int8)
        weights = np.array([0, 14, 8, 8, 22, 30, 12, 0, 2], dtype=np.float64)
        phase[:n] = rng.choice(len(PHASES), size=n, p=weights / weights.sum())
        phase[n:] = _P[Phase.GUEST]
        role[n:] = -1
        subscriber = (rng.random(n) < 0.08) & np.isin(
            phase[:n], [_P[Phase.REGISTERED_ONLY], _P[Phase.NEWSLETTER_ONLY]])
        role[:n][subscriber] = ROLES.index(Role.SUBSCRIBER)
        forced: dict[int, tuple[int, ...]] = {}
        showcase_counts: dict[int, int] = {}
        rhythm = np.zeros(people, dtype=np.int32)
        for i, (sp, srole, statuses, days) in enumerate(_SHOWCASE[:n]):
            phase[i] = _P[sp]
            role[i] = ROLES.index(srole)
            if statuses is not None:
                forced[i] = statuses
            else:
                showcase_counts[i] = {7: 30, 14: 12, 30: 8, 91: 5, 365: 3, 120: 3, 200: 2,
                                      60: 4}[days]
        rclass = rng.choice(len(_RHYTHMS), size=people, p=_RHYTHM_P)
        # Number of orders per person, drawn by phase.
        count = np.zeros(people, dtype=np.int32)
        ph = phase
        ab = ph == _P[Phase.ABANDONED]
        count[ab] = 1 + (rng.random(int(ab.sum())) < 0.3)
        fb = ph == _P[Phase.FIRST_BUYER]
        count[fb] = 1
        rep = ph == _P[Phase.REPEAT_BUYER]
        rhythm[rep] = _RHYTHMS[rclass[rep]]
        count[rep] = 2 + rng.poisson(_RHYTHM_LAMBDA[rclass[rep]])
        lap = ph == _P[Phase.LAPSED]
        rhythm[lap] = rng.integers(60, 240, int(lap.sum()))
        count[lap] = rng.integers(1, 5, int(lap.sum()))
        gst = ph == _P[Phase.GUEST]
        rhythm[gst] = rng.integers(30, 200, int(gst.sum()))
        count[gst] = rng.integers(1, 5, int(gst.sum()))
        gtr = ph == _P[Phase.GUEST_THEN_REGISTERED]
        rhythm[gtr] = rng.integers(30, 120, int(gtr.sum()))
        count[gtr] = rng.integers(2, 6, int(gtr.sum()))
        staff = ph == _P[Phase.STAFF]
        for i, (_sp, _srole, statuses, days) in enumerate(_SHOWCASE[:n]):
            rhythm[i] = days
            count[i] = len(statuses) if statuses is not None else showcase_counts[i]
        for j in range(min(_SHOWCASE_GUESTS, g)):
            count[n + j] = 3 + j
            rhythm[n + j] = 45

        # Timing of the last order and spacing between orders, per person.
        last = np.full(people, now_rel, dtype=np.int64)
        span_days = np.maximum(rhythm, 1).astype(np.int64)
        last -= (rng.random(people) * span_days * _DAY).astype(np.int64)
        last[fb] = now_rel - (rng.exponential(120.0, int(fb.sum())) * _DAY).astype(np.int64) - 3600
        last[ab] = now_rel - (rng.random(int(ab.sum())) * 60 * _DAY).astype(np.int64) - 600
        last[lap] = now_rel - ((2 + rng.random(int(lap.sum())) * 3) * 365 * _DAY).astype(np.int64)
        last[gst] = now_rel - (rng.random(int(gst.sum())) * 700 * _DAY).astype(np.int64) - 3600
        last[staff] = now_rel - 5 * _DAY
        # never before the shop opened
        max_count = 1 + (last - shop_start) // (span_days * _DAY)
        count = np.minimum(count, np.maximum(max_count, 1)).astype(np.int32)
        for i, statuses in forced.items():
            count[i] = len(statuses)
        # first buyers in a not-yet-finished status ordered recently
        self._count = count

        # Per-order arrays, built with small dtypes and freed early: at a million customers
        # there are about 3.2 million orders and every int64 array costs 26 MB.
        cum = np.zeros(people + 1, dtype=np.int64)
        np.cumsum(count, out=cum[1:])
        total = int(cum[-1])
        owner = np.repeat(np.arange(people, dtype=np.int32), count)
        back = cum[1:].astype(np.int32)[owner]
        back -= np.arange(total, dtype=np.int32)
        back -= 1  # orders after this one, for the same person
        is_last = back == 0
        span32 = span_days.astype(np.int32)
        created = last[owner]
        step = back.astype(np.int64)
        step *= span32[owner]
        step *= _DAY
        created -= step
        del step
        jit = rng.random(total, dtype=np.float32)
        jit -= np.float32(0.5)
        jit *= np.float32(0.5 * _DAY)
        np.multiply(jit, span32[owner], out=jit, casting="unsafe")
        jit[is_last] = 0
        created += jit.astype(np.int64)
        del jit
        created += rng.integers(0, 3600, total, dtype=np.int32)  # spread within the hour
        np.minimum(created, now_rel - 60, out=created)

        # statuses
        status = np.full(total, _COMPLETED, dtype=np.int8)
        oph = phase[owner]
        u = rng.random(total, dtype=np.float32)
        ab_o = oph == _P[Phase.ABANDONED]
        status[ab_o] = np.array([_PENDING, _FAILED, _DRAFT], dtype=np.int8)[
            rng.integers(0, 3, int(ab_o.sum()))]
        del ab_o
        fb_o = oph == _P[Phase.FIRST_BUYER]
        fb_p = np.array([0.06, 0.12, 0.06, 0.55, 0.06, 0.05, 0.05, 0.05])
        status[fb_o] = rng.choice(8, size=int(fb_o.sum()), p=fb_p / fb_p.sum()).astype(np.int8)
        del fb_o
        busy = (oph == _P[Phase.REPEAT_BUYER]) | (oph == _P[Phase.GUEST]) | (
            oph == _P[Phase.GUEST_THEN_REGISTERED])
        last_busy = busy & is_last
        lb_p = np.array([0.05, 0.30, 0.05, 0.60])
        status[last_busy] = rng.choice(4, size=int(last_busy.sum()), p=lb_p).astype(np.int8)
        del last_busy
        older = busy & ~is_last
        del busy
        status[older & (u < 0.03)] = _REFUNDED
        status[older & (u >= 0.03) & (u < 0.05)] = _CANCELLED
        status[older & (u >= 0.05) & (u < 0.07)] = _FAILED
        del older
        status[(oph == _P[Phase.LAPSED]) & (u < 0.05)] = _REFUNDED
        for i, statuses in forced.items():
            status[cum[i]: cum[i + 1]] = np.array(statuses, dtype=np.int8)
        trash = (u > 0.997) & (status == _COMPLETED)
        del u
        forced_orders = np.zeros(total, dtype=bool)
        for i in forced:
            forced_orders[cum[i]: cum[i + 1]] = True
        trash &= ~forced_orders
        status[trash] = _TRASH
        del trash, forced_orders
        flags = np.zeros(total, dtype=np.uint8)
        partial = (status == _COMPLETED) & (rng.random(total, dtype=np.float32) < 0.03)
        flags[partial] |= _F_PARTIAL_REFUND
        # unfinished statuses are recent
        unfinished = np.flatnonzero(
            np.isin(status, [_PENDING, _PROCESSING, _ON_HOLD, _DRAFT]) & is_last)
        recent = now_rel - (rng.random(unfinished.size) * 5 * _DAY).astype(np.int64) - 120
        created[unfinished] = np.maximum(created[unfinished], recent)
        del unfinished, recent, is_last
        # guest orders: guests, and the first orders of guest-then-registered people
        kg = np.minimum(np.maximum(count - 1, 1), 1 + (np.arange(people) % 2)).astype(np.int32)
        pos = count[owner] - 1 - back
        del back
        guest_o = (oph == _P[Phase.GUEST]) | ((oph == _P[Phase.GUEST_THEN_REGISTERED])
                                              & (pos < kg[owner]))
        flags[guest_o] |= _F_GUEST
        del guest_o, pos, oph

        created32 = (created - 0).astype(np.int32)
        del created
        # modification time follows the status's life
        modified32 = created32 + np.int32(300)
        for codes, base_days, spread in (((_COMPLETED, _TRASH), 1.0, 4.0),
                                          ((_REFUNDED,), 3.0, 20.0)):
            sel = np.flatnonzero(np.isin(status, codes))
            modified32[sel] = created32[sel] + (
                (base_days + rng.random(sel.size) * spread) * _DAY).astype(np.int32)
        for code, seconds in ((_CANCELLED, 3 * _DAY), (_FAILED, 900), (_PROCESSING, 600)):
            sel = np.flatnonzero(status == code)
            modified32[sel] = created32[sel] + np.int32(seconds)
        sel = np.flatnonzero(partial)
        modified32[sel] = created32[sel] + (
            (6 + rng.random(sel.size) * 20) * _DAY).astype(np.int32)
        del sel, partial
        np.minimum(modified32, np.int32(now_rel), out=modified32)

        # people: registration and modification
        first_idx = cum[:-1]
        has = count > 0
        first_created = np.full(people, now_rel, dtype=np.int64)
        first_created[has] = created32[first_idx[has]]
        reg = first_created - (rng.random(people) * 30 * _DAY).astype(np.int64) - 600
        del first_created
        nob = ~has
        reg[nob] = now_rel - (rng.random(int(nob.sum())) * 3 * 365 * _DAY).astype(np.int64) - 3600
        gtr_people = np.flatnonzero(phase == _P[Phase.GUEST_THEN_REGISTERED])
        if gtr_people.size:
            reg[gtr_people] = created32[cum[gtr_people] + kg[gtr_people]].astype(np.int64) - 3600
        if n > 0:
            reg[0] = shop_start - 30 * _DAY
        reg = np.maximum(reg, shop_start - 30 * _DAY)
        last_mod = np.zeros(people, dtype=np.int64)
        if total:
            last_mod[has] = np.maximum.reduceat(modified32, first_idx[has])
        pmod = np.minimum(np.maximum(reg + 60, last_mod), now_rel)
        del last_mod

        # order ids rise with creation time
        order = np.argsort(created32, kind="stable")
        inv = np.empty(total, dtype=np.int32)
        inv[order] = np.arange(total, dtype=np.int32)
        self._created: IntArray = created32[order]
        del created32
        self._modified: IntArray = modified32[order]
        del modified32
        self._status = status[order]
        self._flags = flags[order]
        self._owner: IntArray = owner[order]
        del order, status, flags, owner
        self._ids_by_person: IntArray = inv  # person-major position -> order index
        self._cum = cum
        self._n_orders = total
        self._created_monotone = True
        self._reg: IntArray = reg.astype(np.int32)
        self._pmod: IntArray = pmod.astype(np.int32)
        self._phase = phase
        self._role = role
        self._rhythm: IntArray = rhythm
        self._kg: IntArray = kg
        news = (rng.random(people) < 0.25) | (phase == _P[Phase.NEWSLETTER_ONLY])
        news[n:] = False
        self._newsletter = news

        # reviews: about 15 % of buyers review one bought product; a few unverified ones
        buyers = np.flatnonzero(has[:n] & (phase[:n] != _P[Phase.ABANDONED]))
        pick = buyers[rng.random(buyers.size) < 0.15]
        if n > 23:
            pick = np.union1d(pick, np.array([13, 19, 21], dtype=np.int64))
        rev_order = inv[cum[pick] + count[pick] - 1].astype(np.int64)
        rev_ok = np.isin(self._status[rev_order], [_COMPLETED, _PROCESSING, _REFUNDED])
        pick, rev_order = pick[rev_ok], rev_order[rev_ok]
        nonbuyers = np.flatnonzero(~has[:n])
        unv = nonbuyers[rng.random(nonbuyers.size) < 0.03]
        if n > 3:
            unv = np.union1d(unv, np.array([3], dtype=np.int64))
        r_person = np.concatenate([pick, unv]).astype(np.int32)
        r_order = np.concatenate([rev_order, np.full(unv.size, -1)]).astype(np.int32)
        r_created = np.concatenate([
            self._modified[rev_order].astype(np.int64)
            + (rng.random(pick.size) * 10 * _DAY).astype(np.int64),
            reg[unv] + (rng.random(unv.size) * 20 * _DAY).astype(np.int64),
        ])
        r_created = np.minimum(r_created, now_rel - 30)
        low = rng.random(r_person.size) < 0.22
        rating = np.where(low, rng.integers(1, 4, r_person.size), rng.integers(4, 6, r_person.size))
        if n > 23:
            # showcase: index 13 (completed first buyer) happy, 19 (weekly buyer) unhappy
            rating[r_person == 13] = 5
            rating[r_person == 19] = 2
        rstatus = (rng.random(r_person.size) < 0.03).astype(np.int8)  # 1 = hold
        rorder = np.lexsort((r_person, r_created))
        self._r_person: IntArray = r_person[rorder]
        self._r_order: IntArray = r_order[rorder]
        self._r_created: IntArray = r_created[rorder].astype(np.int32)
        self._r_rating = rating[rorder].astype(np.int8)
        self._r_status = rstatus[rorder]

    # ---------------------------------------------------------------- clocks and helpers
    def _dt(self, rel: int) -> datetime:
        return datetime.fromtimestamp(int(rel) + self._origin, timezone.utc)

    def _rel(self, when: datetime) -> int:
        if when.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return int(when.timestamp()) - self._origin

    def clock(self) -> datetime:
        """The population's current time: ``now`` plus the wall time elapsed since it was built.

        Writes through the API stamp ``date_modified`` with this clock, so they always sort after
        the generated history whatever ``now`` was.
        """
        elapsed = datetime.now(timezone.utc) - self._built_at
        return (self.now + elapsed).replace(microsecond=0)

    @property
    def version(self) -> int:
        """A counter that changes whenever the overlay changes (for caches)."""
        return self._version

    def _rng(self, kind: str, key: int) -> random.Random:
        digest = hashlib.blake2b(f"{self.seed}/{kind}/{key}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))

    # ---------------------------------------------------------------- counts
    @property
    def customer_count(self) -> int:
        """Registered accounts of every role."""
        return self.size

    @property
    def guest_count(self) -> int:
        """People who bought only as guests."""
        return self.n_guests

    @property
    def order_count(self) -> int:
        """Visible orders (every status except trash), including added ones."""
        with self._lock:
            return int(np.count_nonzero(self._status != _TRASH))

    @property
    def order_count_all(self) -> int:
        """All orders including trash."""
        return int(self._status.size)

    @property
    def review_count(self) -> int:
        """All reviews, whatever their moderation status."""
        return int(self._r_person.size)

    @property
    def max_order_id(self) -> int:
        """The highest order id in use."""
        return FIRST_ORDER_ID + int(self._status.size) - 1

    def count_by_phase(self) -> dict[Phase, int]:
        """How many people (registered and guests) were generated for each phase."""
        values, counts = np.unique(self._phase, return_counts=True)
        return {PHASES[int(v)]: int(c) for v, c in zip(values, counts)}

    def count_by_status(self) -> dict[OrderStatus, int]:
        """How many orders are in each status now (trash included)."""
        values, counts = np.unique(self._status, return_counts=True)
        return {STATUSES[int(v)]: int(c) for v, c in zip(values, counts)}

    # ---------------------------------------------------------------- index access (vectorised)
    def order_index_arrays(self) -> tuple[IntArray, IntArray, npt.NDArray[np.int8], IntArray]:
        """Read-only views ``(created_rel, modified_rel, status_code, order_customer_id)``.

        Positions are order ids minus :data:`FIRST_ORDER_ID`; relative times are seconds since
        :meth:`origin_ts`; status codes index :data:`STATUSES`. For the platform layers'
        vectorised filters, not for tests.
        """
        with self._lock:
            cached = self._cid_cache
            if cached is None or cached[0] != self._status.size:
                owner = self._owner
                cid = np.where((owner < self.size) & ((self._flags & _F_GUEST) == 0),
                               owner + 1, 0).astype(np.int32)
                for k, extra in self._extras.items():
                    cid[k] = extra.customer_id
                cached = (int(self._status.size), cid)
                self._cid_cache = cached
            return self._created, self._modified, self._status, cached[1]

    def origin_ts(self) -> int:
        """The Unix time that relative index times count from."""
        return self._origin

    def created_is_monotone(self) -> bool:
        """True while order ids still rise with creation time (so date order == id order)."""
        return self._created_monotone

    def customer_index_arrays(self) -> tuple[npt.NDArray[np.int8], IntArray]:
        """Read-only ``(role_code, registered_rel)`` for customers ``1..size`` (position id-1)."""
        return self._role[: self.size], self._reg[: self.size]

    def customer_name_order(self) -> IntArray:
        """Customer positions (id-1) sorted by username, computed once on first use."""
        with self._lock:
            if self._name_order is None:
                names = np.array([self._username(i) for i in range(self.size)])
                self._name_order = np.argsort(names, kind="stable").astype(np.int32)
            return self._name_order

    def review_index_arrays(self) -> tuple[IntArray, npt.NDArray[np.int8], npt.NDArray[np.int16]]:
        """Read-only ``(created_rel, status_code (0 approved, 1 hold), product_id)`` per review."""
        with self._lock:
            if self._review_products is None:
                prods = np.array([self._review_product(i) for i in range(self._r_person.size)],
                                 dtype=np.int16)
                self._review_products = prods
            return self._r_created, self._r_status, self._review_products

    def person_of_customer(self, customer_id: int) -> int | None:
        """The person index of a registered customer id, or None if there is no such customer."""
        if 1 <= customer_id <= self.size:
            return customer_id - 1
        return None

    def find_customer_by_email(self, email: str) -> int | None:
        """The id of the registered customer with this e-mail (case-insensitive), if any."""
        wanted = email.strip().lower()
        local = wanted.split("@", 1)[0]
        digits = "".join(itertools.takewhile(str.isdigit, reversed(local)))[::-1]
        if digits:
            idx = int(digits)
            if idx < self.size and self._person(idx)[2].lower() == wanted:
                return idx + 1
        return None

    # ---------------------------------------------------------------- people
    def _person(self, p: int) -> tuple[str, str, str, str, Address]:
        """first, last, email, username, address of person ``p`` (cached)."""
        hit = self._person_cache.get(p)
        if hit is not None:
            return hit
        made = self._make_person(p)
        if len(self._person_cache) > 200_000:
            self._person_cache.clear()
        self._person_cache[p] = made
        return made

    def _make_person(self, p: int) -> tuple[str, str, str, str, Address]:
        rng = self._rng("person", p)
        first = _FIRST_NAMES[rng.randrange(len(_FIRST_NAMES))]
        last = _LAST_NAMES[rng.randrange(len(_LAST_NAMES))]
        total_w = sum(c[1] for c in _COUNTRIES)
        pick = rng.randrange(total_w)
        for country in _COUNTRIES:
            pick -= country[1]
            if pick < 0:
                break
        code, _, cities, pc_pattern, national, international = country
        domain = _DOMAINS[rng.randrange(len(_DOMAINS))]
        email = f"{_slug(first)}.{_slug(last)}{p}@{domain}"
        username = f"{_slug(first)}{_slug(last)}{p}"
        if p == 0:
            email, username = f"admin0@{_DOMAINS[0]}", "admin"
        phone_kind = rng.random()
        if phone_kind < 0.45:
            phone = _fill(national, rng)
        elif phone_kind < 0.85:
            phone = _fill(international, rng)
        else:
            phone = ""
        addr = Address(
            first_name=first, last_name=last,
            company="Koffiebar BV" if rng.random() < 0.05 else "",
            address_1=f"{_STREETS[rng.randrange(len(_STREETS))]} {rng.randrange(1, 200)}",
            address_2="", city=cities[rng.randrange(len(cities))], state="",
            postcode=_fill(pc_pattern, rng), country=code, email=email, phone=phone,
        )
        return first, last, email, username, addr

    def _username(self, p: int) -> str:
        if p == 0:
            return "admin"
        rng = self._rng("person", p)
        first = _FIRST_SLUGS[rng.randrange(len(_FIRST_NAMES))]
        return f"{first}{_LAST_SLUGS[rng.randrange(len(_LAST_NAMES))]}{p}"

    def _orders_of_person(self, p: int) -> list[int]:
        start, end = int(self._cum[p]), int(self._cum[p + 1])
        ids = [int(self._ids_by_person[k]) for k in range(start, end)]
        ids.extend(self._person_extra_orders.get(p, ()))
        return ids

    def customer(self, customer_id: int) -> Customer | None:
        """The registered customer with this id (1..size), or None."""
        p = self.person_of_customer(customer_id)
        if p is None:
            return None
        first, last, email, username, addr = self._person(p)
        phase = PHASES[int(self._phase[p])]
        role = ROLES[int(self._role[p])]
        with self._lock:
            idxs = self._orders_of_person(p)
            statuses = [int(self._status[k]) for k in idxs]
            pmod = self._customer_mod.get(p, int(self._pmod[p]))
            meta_over = self._customer_meta.get(p)
            fields = self._customer_fields.get(p)
        paying = any(s in (_PROCESSING, _COMPLETED, _REFUNDED) for s in statuses)
        bought = bool(idxs)
        optin_at = None
        meta: tuple[MetaEntry, ...] = ()
        if self._newsletter[p]:
            optin_at = self._dt(int(self._reg[p]) + 120)
            meta = (
                MetaEntry(2 * p + 1, "newsletter_optin", "yes"),
                MetaEntry(2 * p + 2, "newsletter_optin_date",
                          optin_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
            )
        if meta_over is not None:
            meta = tuple(meta_over)
        if fields is not None:
            first = fields.get("first_name", first)
            last = fields.get("last_name", last)
            email = fields.get("email", email)
            if "newsletter_optin_at" in fields:
                optin_at = fields["newsletter_optin_at"]
        shipping = Address(addr.first_name, addr.last_name, addr.company, addr.address_1,
                           addr.address_2, addr.city, addr.state, addr.postcode, addr.country,
                           "", "") if bought else EMPTY_ADDRESS
        billing = addr if (bought or p % 3 == 0) else Address(
            first, last, "", "", "", "", "", "", "", email, "")
        return Customer(
            id=p + 1, person_index=p, phase=phase, role=role, username=username, email=email,
            first_name=first, last_name=last, billing=billing, shipping=shipping,
            date_created=self._dt(int(self._reg[p])), date_modified=self._dt(pmod),
            is_paying_customer=paying, newsletter_optin_at=optin_at, meta_data=meta,
            rhythm_days=int(self._rhythm[p]),
        )

    def customers(self) -> Iterator[Customer]:
        """Every registered customer, by id ascending."""
        for cid in range(1, self.size + 1):
            c = self.customer(cid)
            assert c is not None
            yield c

    def guests(self) -> Iterator[Guest]:
        """Every guest-only person."""
        for p in range(self.size, self.n_people):
            first, last, email, _, _ = self._person(p)
            yield Guest(p, email, first, last)

    def customer_orders(self, customer_id: int) -> list[Order]:
        """Every order (trash included) of one registered person, guest orders included."""
        p = self.person_of_customer(customer_id)
        if p is None:
            return []
        with self._lock:
            idxs = self._orders_of_person(p)
        out = []
        for k in idxs:
            o = self.order(FIRST_ORDER_ID + k, include_trash=True)
            assert o is not None
            out.append(o)
        return out

    # ---------------------------------------------------------------- orders
    def _lines(self, phase: int, rng: random.Random) -> list[tuple[int, int]]:
        table = _CUM_COFFEE if phase == _P[Phase.REPEAT_BUYER] and rng.random() < 0.7 else _CUM
        n_items = 1 + bisect.bisect_right(_CUM_ITEMS, rng.random() * _CUM_ITEMS[-1])
        chosen: list[int] = []
        while len(chosen) < n_items:
            i = bisect.bisect_right(table, rng.random() * table[-1])
            if i not in chosen:
                chosen.append(i)
        out = []
        for i in chosen:
            qty = 1 + bisect.bisect_right(_CUM_QTY, rng.random() * _CUM_QTY[-1])
            out.append((self.products[i].id, qty))
        return out

    def _review_product(self, r: int) -> int:
        k = int(self._r_order[r])
        if k < 0:
            rng = self._rng("review", r)
            return self.products[rng.randrange(len(self.products))].id
        o = self.order(FIRST_ORDER_ID + k, include_trash=True)
        assert o is not None
        return o.line_items[0].product_id

    def order(self, order_id: int, include_trash: bool = True) -> Order | None:
        """The order with this id, or None; trash orders only when ``include_trash``."""
        k = order_id - FIRST_ORDER_ID
        if k < 0 or k >= self._status.size:
            return None
        with self._lock:
            code = int(self._status[k])
            created = int(self._created[k])
            modified = int(self._modified[k])
            flags = int(self._flags[k])
            p = int(self._owner[k])
            overlay = self._order_overlay.get(k)
            extra = self._extras.get(k)
        if code == _TRASH and not include_trash:
            return None
        rng = self._rng("order", k)
        phase = int(self._phase[p])
        first, last, email, _, addr = self._person(p)
        guest = bool(flags & _F_GUEST)
        customer_id = 0 if (guest or p >= self.size) else p + 1
        if extra is not None:
            customer_id = extra.customer_id
        typed_email = email
        if guest:
            variant = rng.random()
            if variant < 0.3:
                typed_email = email.upper()
            elif variant < 0.5:
                typed_email = email[:1].upper() + email[1:]
        billing = Address(first, last, addr.company, addr.address_1, "", addr.city, "",
                          addr.postcode, addr.country, typed_email, addr.phone)
        shipping = Address(first, last, addr.company, addr.address_1, "", addr.city, "",
                           addr.postcode, addr.country, "", "")
        lines = list(extra.products) if extra is not None else self._lines(phase, rng)
        items = []
        for j, (pid, qty) in enumerate(lines):
            prod = self._product_by_id[pid]
            items.append(LineItem(id=k * 6 + j + 1, product_id=pid, name=prod.name, sku=prod.sku,
                                  quantity=qty, price=prod.price,
                                  total=_money(prod.price * qty)))
        items_total = sum((li.total for li in items), Decimal("0.00"))
        shipping_total = Decimal("0.00") if items_total >= 50 else Decimal("4.95")
        total_tax = Decimal("0.00")
        total = _money(items_total + shipping_total + total_tax)

        previous: OrderStatus | None = None
        if overlay is not None and overlay.status is not None:
            code = overlay.status
        if overlay is not None and overlay.modified is not None:
            modified = overlay.modified
        status = STATUSES[code]
        base_code = int(self._status[k]) if overlay is None or overlay.status is None else code
        if status is OrderStatus.TRASH:
            previous = OrderStatus.COMPLETED
        paid_codes = (_PROCESSING, _COMPLETED, _REFUNDED, _TRASH)
        paid: int | None = created + 600 if code in paid_codes else None
        completed: int | None = None
        if code in (_COMPLETED, _TRASH):
            completed = modified if not flags & _F_PARTIAL_REFUND else created + (
                modified - created) // 3
        elif code == _REFUNDED:
            completed = created + (modified - created) // 3
        if overlay is not None:
            if overlay.paid is not None:
                paid = overlay.paid
            if overlay.completed is not None:
                completed = overlay.completed
            if code not in paid_codes and base_code != code and overlay.paid is None:
                paid = None
        refunds: list[Refund] = []
        refund_at = self._dt(modified)
        if code == _REFUNDED:
            refunds.append(Refund(self._refund_id(k), order_id, total,
                                  _REFUND_REASONS[rng.randrange(len(_REFUND_REASONS))],
                                  refund_at))
        elif flags & _F_PARTIAL_REFUND and code in (_COMPLETED, _TRASH):
            cheapest = min(items, key=lambda li: li.price)
            amount = cheapest.price
            if amount >= total:
                amount = _money(total / 2)
            refunds.append(Refund(self._refund_id(k), order_id, _money(amount),
                                  _REFUND_REASONS[rng.randrange(len(_REFUND_REASONS))],
                                  refund_at))
        meta: list[MetaEntry] = []
        if status is OrderStatus.TRASH:
            base = 2 * self.n_people + 2 * k
            meta = [MetaEntry(base + 1, "_wp_trash_meta_status", "wc-completed"),
                    MetaEntry(base + 2, "_wp_trash_meta_time", str(self._origin + modified))]
        if overlay is not None and overlay.meta is not None:
            meta = list(overlay.meta)
        elif extra is not None:
            meta = list(extra.meta)
        method = rng.choice((("ideal", "iDEAL"), ("ideal", "iDEAL"), ("bacs", "Bankoverschrijving"),
                             ("paypal", "PayPal"), ("bancontact", "Bancontact")))
        bits = rng.getrandbits(78)
        order_key = "wc_order_" + "".join(_KEY_CHARS[(bits >> (6 * i)) % 62] for i in range(13))
        transaction = f"tr_{rng.randrange(10**8, 10**10)}" if paid is not None else ""
        return Order(
            id=order_id, person_index=p, customer_id=customer_id, status=status,
            previous_status=previous, date_created=self._dt(created),
            date_modified=self._dt(modified),
            date_paid=self._dt(paid) if paid is not None else None,
            date_completed=self._dt(completed) if completed is not None else None,
            billing=billing, shipping=shipping, line_items=tuple(items),
            shipping_line_id=k * 6 + 5, shipping_total=shipping_total, total_tax=total_tax,
            total=total, refunds=tuple(refunds), meta_data=tuple(meta), order_key=order_key,
            transaction_id=transaction,
            customer_ip_address=f"203.0.113.{rng.randrange(1, 255)}",
            customer_user_agent=_USER_AGENTS[rng.randrange(len(_USER_AGENTS))],
            payment_method=method[0], payment_method_title=method[1],
            created_via="store-api" if status is OrderStatus.CHECKOUT_DRAFT else "checkout",
        )

    def _refund_id(self, k: int) -> int:
        return int(10 ** (len(str(FIRST_ORDER_ID + self._n_orders)) + 1)) + k

    def orders(self, include_trash: bool = True) -> Iterator[Order]:
        """Every order by id ascending; trash orders only when ``include_trash``."""
        for k in range(self._status.size):
            o = self.order(FIRST_ORDER_ID + k, include_trash=include_trash)
            if o is not None:
                yield o

    def orders_by_ids(self, ids: Sequence[int]) -> list[Order]:
        """The orders with these ids, in the given order (missing ids are skipped)."""
        out = []
        for oid in ids:
            o = self.order(int(oid))
            if o is not None:
                out.append(o)
        return out

    # ---------------------------------------------------------------- reviews
    def review(self, review_id: int) -> Review | None:
        """The review with this id, or None."""
        r = review_id - FIRST_REVIEW_ID
        if r < 0 or r >= self._r_person.size:
            return None
        p = int(self._r_person[r])
        first, last, email, _, _ = self._person(p)
        rng = self._rng("review", r)
        rating = int(self._r_rating[r])
        text = rng.choice(_REVIEW_TEXTS_HIGH if rating >= 4 else _REVIEW_TEXTS_LOW)
        if rng.random() < 0.2:
            email = email[:1].upper() + email[1:]
        k = int(self._r_order[r])
        return Review(
            id=review_id, person_index=p, order_id=FIRST_ORDER_ID + k if k >= 0 else None,
            product_id=self._review_product(r), reviewer=f"{first} {last}",
            reviewer_email=email, review=text, rating=rating, verified=k >= 0,
            status="hold" if self._r_status[r] else "approved",
            date_created=self._dt(int(self._r_created[r])),
        )

    def reviews(self) -> Iterator[Review]:
        """Every review by id ascending."""
        for r in range(self._r_person.size):
            rv = self.review(FIRST_REVIEW_ID + r)
            assert rv is not None
            yield rv

    def refund(self, refund_id: int) -> Refund | None:
        """The refund with this id, or None."""
        k = refund_id - self._refund_id(0)
        o = self.order(FIRST_ORDER_ID + k) if 0 <= k < self._status.size else None
        if o is None:
            return None
        for rf in o.refunds:
            if rf.id == refund_id:
                return rf
        return None

    # ---------------------------------------------------------------- mutations (overlay)
    def update_order(self, order_id: int, *, status: OrderStatus | str | None = None,
                     at: datetime | None = None,
                     meta_data: Sequence[dict[str, Any]] | None = None,
                     state_tag: int = 0) -> Order:
        """Change an order's status and/or meta and bump its ``date_modified``.

        ``at`` (timezone-aware) is the modification time; it defaults to :meth:`clock`. Moving
        to ``completed`` sets ``date_completed``; to ``processing``/``completed`` sets
        ``date_paid`` when it was unpaid. The owner's ``date_modified`` is bumped too, as
        WooCommerce does. Every status given is logged in :meth:`status_changes` (with
        ``state_tag``, a platform's own state id, 0 when none). Raises ``KeyError`` for an unknown
        id.
        """
        k = order_id - FIRST_ORDER_ID
        if k < 0 or k >= self._status.size:
            raise KeyError(order_id)
        when = self._rel(at if at is not None else self.clock())
        with self._lock:
            if self._gen_status is None:
                self._gen_status = self._status[: self._n_orders].copy()
                self._gen_modified = self._modified[: self._n_orders].copy()
            ov = self._order_overlay.setdefault(k, _OrderOverlay())
            if status is not None:
                new = _CODE[OrderStatus(status)]
                old = int(self._status[k])
                self._status_log.append((k, new, when, state_tag))
                ov.status = new
                self._status[k] = new
                if new == _COMPLETED and old != _COMPLETED:
                    ov.completed = when
                if new in (_PROCESSING, _COMPLETED) and old not in (
                        _PROCESSING, _COMPLETED, _REFUNDED, _TRASH):
                    ov.paid = when
            if meta_data is not None:
                current = ov.meta
                if current is None:
                    o = self.order(order_id)
                    assert o is not None
                    current = list(o.meta_data)
                ov.meta = self.upsert_meta(current, meta_data)
            ov.modified = when
            self._modified[k] = when
            p = int(self._owner[k])
            self._customer_mod[p] = max(when, self._customer_mod.get(p, int(self._pmod[p])))
            self._version += 1
        o = self.order(order_id)
        assert o is not None
        return o

    def add_order(self, customer_id: int, *, status: OrderStatus | str = OrderStatus.PROCESSING,
                  at: datetime | None = None,
                  products: Sequence[tuple[int, int]] = ((10, 1),),
                  guest_email_of: int | None = None) -> Order:
        """Append a new order (next id) for a registered customer, created and modified ``at``.

        ``products`` is a sequence of ``(product_id, quantity)``. For a guest order pass
        ``customer_id=0`` and ``guest_email_of`` = the person index whose e-mail it carries.
        """
        when = self._rel(at if at is not None else self.clock())
        if customer_id:
            person = self.person_of_customer(customer_id)
            if person is None:
                raise KeyError(customer_id)
        else:
            if guest_email_of is None:
                raise ValueError("a guest order needs guest_email_of")
            person = guest_email_of
        for pid, _qty in products:
            if pid not in self._product_by_id:
                raise KeyError(pid)
        code = _CODE[OrderStatus(status)]
        with self._lock:
            k = int(self._status.size)
            if k and when < int(self._created[-1]):
                self._created_monotone = False
            self._created = np.append(self._created, np.int32(when))
            self._modified = np.append(self._modified, np.int32(when))
            self._status = np.append(self._status, np.int8(code))
            self._flags = np.append(self._flags, np.uint8(0 if customer_id else _F_GUEST))
            self._owner = np.append(self._owner, np.int32(person))
            self._extras[k] = _Extra(person, customer_id, tuple(products))
            self._person_extra_orders.setdefault(person, []).append(k)
            ov = self._order_overlay.setdefault(k, _OrderOverlay())
            if code in (_PROCESSING, _COMPLETED, _REFUNDED):
                ov.paid = when
            if code == _COMPLETED:
                ov.completed = when
            self._customer_mod[person] = max(when, self._customer_mod.get(
                person, int(self._pmod[person])))
            self._status_log.append((k, code, when, 0))
            if self._carts is not None:
                self._cart_extras.append(_CartExtra(0, k, when - 60, when, ()))
            self._version += 1
        o = self.order(FIRST_ORDER_ID + k)
        assert o is not None
        return o

    def upsert_meta(self, current: Sequence[MetaEntry],
                    updates: Sequence[dict[str, Any]]) -> list[MetaEntry]:
        """Apply WooCommerce meta semantics and return the new list.

        An update with ``id`` replaces that row (its key may change); one with only ``key``
        replaces the first row with that key and drops later duplicates, or appends a new row
        with a fresh id. A ``value`` of None deletes the key.
        """
        rows = list(current)
        for upd in updates:
            if not isinstance(upd, dict) or "key" not in upd:
                continue
            key = str(upd["key"])
            value = upd.get("value")
            mid = upd.get("id")
            if mid is not None:
                for i, row in enumerate(rows):
                    if row.id == mid:
                        rows[i] = MetaEntry(row.id, key, value)
                        break
                continue
            if value is None:
                rows = [r for r in rows if r.key != key]
                continue
            hits = [i for i, r in enumerate(rows) if r.key == key]
            if hits:
                rows[hits[0]] = MetaEntry(rows[hits[0]].id, key, value)
                rows = [r for i, r in enumerate(rows) if r.key != key or i == hits[0]]
            else:
                rows.append(MetaEntry(next(self._meta_seq), key, value))
        return rows

    def write_customer_meta(self, customer_id: int, updates: Sequence[dict[str, Any]],
                            at: datetime | None = None) -> Customer:
        """Upsert meta rows on a customer (see :meth:`upsert_meta`) and bump ``date_modified``."""
        p = self.person_of_customer(customer_id)
        if p is None:
            raise KeyError(customer_id)
        when = self._rel(at if at is not None else self.clock())
        with self._lock:
            current = self._customer_meta.get(p)
            if current is None:
                c = self.customer(customer_id)
                assert c is not None
                current = list(c.meta_data)
            self._customer_meta[p] = self.upsert_meta(current, updates)
            self._customer_mod[p] = when
            self._version += 1
        c = self.customer(customer_id)
        assert c is not None
        return c

    # ---------------------------------------------------------------- platform-only data
    def status_changes(self) -> list[tuple[int, OrderStatus, datetime, int]]:
        """Every status set since the population was built, oldest first.

        Tuples ``(order_id, status, at, state_tag)``; ``state_tag`` is the platform state id
        passed to :meth:`update_order` (0 when the change came without one).
        """
        with self._lock:
            log = list(self._status_log)
        return [(FIRST_ORDER_ID + k, STATUSES[code], self._dt(when), tag)
                for k, code, when, tag in log]

    def status_log_arrays(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """The status log as arrays ``(order_index, status_code, at_rel, state_tag)``."""
        with self._lock:
            log = list(self._status_log)
        if not log:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, empty, empty
        arr = np.array(log, dtype=np.int64)
        return (arr[:, 0].astype(np.int32), arr[:, 1].astype(np.int32),
                arr[:, 2].astype(np.int32), arr[:, 3].astype(np.int32))

    @property
    def generated_order_count(self) -> int:
        """Orders made by the generator (added orders come after them)."""
        return self._n_orders

    def generated_order_arrays(self) -> tuple[IntArray, npt.NDArray[np.int8], IntArray,
                                              npt.NDArray[np.uint8]]:
        """``(created_rel, status_code, modified_rel, flags)`` of the generated orders as
        generated, before any :meth:`update_order` (flag 1: partly refunded, 2: guest order)."""
        with self._lock:
            n = self._n_orders
            status = self._gen_status if self._gen_status is not None else self._status[:n]
            modified = self._gen_modified if self._gen_modified is not None else \
                self._modified[:n]
            return self._created[:n], status, modified, self._flags[:n]

    def order_owner_arrays(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """``(person_index, is_guest_order)`` of every order, positions as in
        :meth:`order_index_arrays`."""
        with self._lock:
            return self._owner, (self._flags & _F_GUEST) != 0

    def person_count_arrays(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """``(registered_rel, newsletter)`` for every person (customers, then guests)."""
        return self._reg, self._newsletter

    def person_identity(self, person_index: int) -> tuple[str, str, str, Address]:
        """First name, last name, e-mail and address of any person (customer or guest)."""
        first, last, email, _, addr = self._person(person_index)
        return first, last, email, addr

    def update_customer(self, customer_id: int, *, first_name: str | None = None,
                        last_name: str | None = None, email: str | None = None,
                        newsletter: bool | None = None, at: datetime | None = None) -> Customer:
        """Change a registered customer's name, e-mail or newsletter consent; bump
        ``date_modified`` (to ``at``, default :meth:`clock`). Raises ``KeyError``."""
        p = self.person_of_customer(customer_id)
        if p is None:
            raise KeyError(customer_id)
        when = self._rel(at if at is not None else self.clock())
        with self._lock:
            fields = self._customer_fields.setdefault(p, {})
            for key, value in (("first_name", first_name), ("last_name", last_name),
                               ("email", email)):
                if value is not None:
                    fields[key] = value
            if newsletter is not None:
                current = self.customer(customer_id)
                assert current is not None
                if newsletter and current.newsletter_optin_at is None:
                    fields["newsletter_optin_at"] = self._dt(when)
                elif not newsletter:
                    fields["newsletter_optin_at"] = None
            self._customer_mod[p] = when
            self._version += 1
        c = self.customer(customer_id)
        assert c is not None
        return c

    def touch_customer(self, customer_id: int, at: datetime | None = None) -> None:
        """Bump a registered customer's ``date_modified`` without changing anything else."""
        p = self.person_of_customer(customer_id)
        if p is None:
            raise KeyError(customer_id)
        when = self._rel(at if at is not None else self.clock())
        with self._lock:
            self._customer_mod[p] = when
            self._version += 1

    # carts ------------------------------------------------------------------------------
    def _cart_index(self) -> _CartIndex:
        with self._lock:
            if self._carts is None:
                self._carts = self._build_carts()
                for k in range(self._n_orders, int(self._status.size)):
                    self._cart_extras.append(_CartExtra(0, k, int(self._created[k]) - 60,
                                                        int(self._created[k]), ()))
            return self._carts

    def _build_carts(self) -> _CartIndex:
        n_gen, n = self._n_orders, self.size
        now_rel = self._now_ts - self._origin
        rng = np.random.default_rng([self.seed, n, self._now_ts, 0xCA27])
        created_o = self._created[:n_gen].astype(np.int64)
        o_created = created_o - rng.integers(120, 3600, n_gen)
        left = (rng.random(n) < 0.12).astype(np.int32)
        left[self._phase[:n] == _P[Phase.ABANDONED]] += 1
        owners = np.repeat(np.arange(n, dtype=np.int64), left)
        reg = self._reg[owners].astype(np.int64)
        l_created = reg + (rng.random(owners.size) * (now_rel - 60 - reg)).astype(np.int64)
        l_mod = np.minimum(l_created + rng.integers(0, 86_400, owners.size), now_rel - 30)
        visitors = max(3, n // 5)
        v_created = now_rel - (rng.random(visitors) * 730 * _DAY).astype(np.int64) - 60
        v_mod = np.minimum(v_created + rng.integers(0, 1800, visitors), now_rel - 30)
        kind = np.concatenate([np.zeros(n_gen, np.int8), np.ones(owners.size, np.int8),
                               np.full(visitors, 2, np.int8)])
        ref = np.concatenate([np.arange(n_gen, dtype=np.int64), owners,
                              np.arange(visitors, dtype=np.int64)])
        created = np.concatenate([o_created, l_created, v_created])
        modified = np.concatenate([created_o, l_mod, v_mod])
        order = np.argsort(created, kind="stable")
        kind, ref = kind[order], ref[order].astype(np.int32)
        order_cart = np.zeros(n_gen, dtype=np.int32)
        pos = np.flatnonzero(kind == 0)
        order_cart[ref[pos]] = (pos + 1).astype(np.int32)
        return _CartIndex(kind, ref, created[order].astype(np.int32),
                          modified[order].astype(np.int32), order_cart)

    def cart_index_arrays(self) -> tuple[npt.NDArray[np.int8], IntArray, IntArray, IntArray]:
        """``(kind, ref, created_rel, modified_rel)`` of every cart, position = cart id - 1.

        ``kind`` indexes :data:`CART_KINDS`; ``ref`` is the order index (order carts), the person
        index (abandoned carts) or the visitor number (visitor carts).
        """
        idx = self._cart_index()
        with self._lock:
            cached = self._cart_cache
            if cached is not None and cached[0] == len(self._cart_extras):
                return cached[1]
            extras = list(self._cart_extras)
            made = (np.concatenate([idx.kind, np.array([e.kind for e in extras], np.int8)]),
                    np.concatenate([idx.ref, np.array([e.ref for e in extras], np.int32)]),
                    np.concatenate([idx.created,
                                    np.array([e.created for e in extras], np.int32)]),
                    np.concatenate([idx.modified,
                                    np.array([e.modified for e in extras], np.int32)]))
            self._cart_cache = (len(extras), made)
            return made

    def cart_of_order(self, order_id: int) -> int:
        """The id of the cart that became this order (every order has one)."""
        k = order_id - FIRST_ORDER_ID
        idx = self._cart_index()
        if 0 <= k < self._n_orders:
            return int(idx.order_cart[k])
        with self._lock:
            for i, e in enumerate(self._cart_extras):
                if e.kind == 0 and e.ref == k:
                    return int(idx.kind.size) + i + 1
        raise KeyError(order_id)

    @property
    def cart_count(self) -> int:
        """Every cart ever made (order carts, abandoned carts, visitor carts)."""
        idx = self._cart_index()
        with self._lock:
            return int(idx.kind.size) + len(self._cart_extras)

    def cart(self, cart_id: int) -> Cart | None:
        """The cart with this id, or None."""
        kinds, refs, created, modified = self.cart_index_arrays()
        i = cart_id - 1
        if i < 0 or i >= kinds.size:
            return None
        kind, ref = int(kinds[i]), int(refs[i])
        base = int(self._carts.kind.size) if self._carts is not None else 0
        extra_lines: tuple[tuple[int, int], ...] = ()
        if i >= base:
            with self._lock:
                extra_lines = self._cart_extras[i - base].lines
        order_id: int | None = None
        if kind == 0:
            order_id = FIRST_ORDER_ID + ref
            o = self.order(order_id)
            assert o is not None
            person = o.person_index
            lines = tuple((li.product_id, li.quantity) for li in o.line_items)
            visitor = person + 1
        else:
            person = ref if kind == 1 else -1
            visitor = person + 1 if kind == 1 else self.n_people + ref + 1
            if extra_lines:
                lines = extra_lines
            else:
                rng = self._rng("cart", cart_id)
                phase = int(self._phase[person]) if person >= 0 else _P[Phase.GUEST]
                lines = tuple(self._lines(phase, rng))
        return Cart(cart_id, CART_KINDS[kind], person, order_id, visitor,
                    self._dt(int(created[i])), self._dt(int(modified[i])), lines)

    def add_cart(self, customer_id: int, products: Sequence[tuple[int, int]] = ((10, 1),),
                 at: datetime | None = None) -> Cart:
        """Add a cart left behind by a registered customer, or by an unknown visitor when
        ``customer_id`` is 0; created and modified ``at`` (default :meth:`clock`)."""
        when = self._rel(at if at is not None else self.clock())
        for pid, _qty in products:
            if pid not in self._product_by_id:
                raise KeyError(pid)
        self._cart_index()
        with self._lock:
            if customer_id:
                person = self.person_of_customer(customer_id)
                if person is None:
                    raise KeyError(customer_id)
                extra = _CartExtra(1, person, when, when, tuple(products))
            else:
                visitors = sum(1 for e in self._cart_extras if e.kind == 2)
                extra = _CartExtra(2, max(3, self.size // 5) + visitors, when, when,
                                   tuple(products))
            self._cart_extras.append(extra)
            cart_id = self.cart_count
            self._version += 1
        cart = self.cart(cart_id)
        assert cart is not None
        return cart

    def index_nbytes(self) -> int:
        """Bytes held by the index arrays (a lower bound of the population's memory)."""
        arrays = [self._created, self._modified, self._status, self._flags, self._owner,
                  self._ids_by_person, self._cum, self._reg, self._pmod, self._phase,
                  self._role, self._rhythm, self._kg, self._newsletter, self._count,
                  self._r_person, self._r_order, self._r_created, self._r_rating, self._r_status]
        return int(sum(a.nbytes for a in arrays))


def to_shop_local(when: datetime) -> datetime:
    """Convert an aware datetime to the shop's wall-clock time (Europe/Amsterdam)."""
    return when.astimezone(SHOP_TIMEZONE)


def utc_from_naive(value: datetime, *, is_gmt: bool) -> datetime:
    """Read a zone-less datetime as UTC (``is_gmt``) or as shop-local time, return aware UTC."""
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    if is_gmt:
        return value.replace(tzinfo=timezone.utc)
    return value.replace(tzinfo=SHOP_TIMEZONE).astimezone(timezone.utc)


def shop_start(now: datetime) -> datetime:
    """The earliest time the generator places orders (six years before ``now``)."""
    return now - timedelta(days=6 * 365)
