"""Records derived one at a time from the population's index and overlay.

Everything the index does not hold (names, e-mail, addresses, line items, refunds, payment
details) comes from a per-record ``random.Random`` seeded with the record's identity, so reading
one order or one page costs O(page), never O(population), and a record reads the same however
many others were read before it. The overlay's writes are laid over the generated values.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from .index import GUEST_FLAG, PARTIAL_REFUND_FLAG, IntArray, PopulationIndex
from .overlay import OrderChange, Overlay
from .records import (
    COMPLETED_CODE,
    EMPTY_ADDRESS,
    FIRST_ORDER_ID,
    FIRST_REVIEW_ID,
    PHASE_CODE,
    PHASES,
    PROCESSING_CODE,
    REFUNDED_CODE,
    ROLES,
    STATUSES,
    TRASH_CODE,
    Address,
    Customer,
    LineItem,
    MetaEntry,
    Order,
    OrderStatus,
    Phase,
    Product,
    Refund,
    Review,
    cents,
)
from .vocabulary import (
    COUNTRIES,
    DOMAINS,
    FIRST_NAMES,
    FIRST_SLUGS,
    LAST_NAMES,
    LAST_SLUGS,
    REFUND_REASONS,
    REVIEW_TEXTS_HIGH,
    REVIEW_TEXTS_LOW,
    STREETS,
    USER_AGENTS,
    fill,
    slug,
)

#: first name, last name, e-mail, username and address of a person, as generated.
PersonRow = tuple[str, str, str, str, Address]

_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Cumulative weights: products (all buyers, coffee lovers), lines per order, quantity per line.
_CUM = list(itertools.accumulate([40, 3, 5, 12, 3, 15, 6, 2, 3, 2, 3, 6, 3, 5, 4, 3, 2, 1, 6, 5]))
_CUM_COFFEE = list(itertools.accumulate(
    [80, 0, 1, 8, 0, 30, 6, 0, 0, 0, 0, 3, 0, 2, 2, 0, 0, 0, 12, 3]))
_CUM_ITEMS = list(itertools.accumulate([50, 30, 15, 5]))
_CUM_QTY = list(itertools.accumulate([75, 20, 5]))
_PAYMENTS = (("ideal", "iDEAL"), ("ideal", "iDEAL"), ("bacs", "Bankoverschrijving"),
             ("paypal", "PayPal"), ("bancontact", "Bancontact"))
_PAID_CODES = (PROCESSING_CODE, COMPLETED_CODE, REFUNDED_CODE, TRASH_CODE)
#: Carriers of tracked shipments: slug (as shipment-tracking plugins store it), the tracking
#: number's prefix and its count of digits.
SHIPPERS = (("postnl", "3SJBNL", 9), ("dhl", "JVGL", 14), ("dpd", "0", 13), ("ups", "1Z", 16))
#: The share of completed orders whose shipment has a tracking number.
SHIPMENT_TRACKED_SHARE = 0.6


class Deriver:
    """Derives the neutral records of one population (see the module docstring)."""

    def __init__(self, index: PopulationIndex, overlay: Overlay, *, size: int, seed: int,
                 origin: int, products: tuple[Product, ...]) -> None:
        self.index = index
        self.overlay = overlay
        self.lock = overlay.lock
        self.size = size
        self.seed = seed
        self.origin = origin
        self.products = products
        self.product_by_id = {p.id: p for p in products}
        self._person_cache: dict[int, PersonRow] = {}
        self._customer_ids: tuple[int, IntArray] | None = None
        self._name_order: IntArray | None = None
        self._review_products: npt.NDArray[np.int16] | None = None

    def dt(self, rel: int) -> datetime:
        """A relative index time as an aware UTC datetime."""
        return datetime.fromtimestamp(int(rel) + self.origin, timezone.utc)

    def rng(self, kind: str, key: int) -> random.Random:
        """The generator of one record: the same for the same seed, kind and key."""
        digest = hashlib.blake2b(f"{self.seed}/{kind}/{key}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))

    def shipment(self, k: int, code: int, completed: int | None
                 ) -> tuple[str, str, int] | None:
        """The shipment of order index ``k`` in status ``code`` (completed at ``completed``),
        as a shop with a shipment-tracking habit records it: carrier slug, tracking number
        and the day shipped (rel. seconds, midnight UTC); None for most orders that were not
        completed and for the share shipped untracked. Both platforms serve the same one."""
        if code not in (COMPLETED_CODE, TRASH_CODE) or completed is None:
            return None
        rng = self.rng("shipment", k)
        if rng.random() >= SHIPMENT_TRACKED_SHARE:
            return None
        slug, prefix, digits = SHIPPERS[rng.randrange(len(SHIPPERS))]
        number = prefix + "".join(str(rng.randrange(10)) for _ in range(digits))
        shipped = completed - 86_400
        return slug, number, shipped - (shipped + self.origin) % 86_400

    # ---------------------------------------------------------------- derived arrays
    def order_customer_ids(self) -> IntArray:
        """The customer id of every order (0 for guest orders), cached until orders are added."""
        idx = self.index
        with self.lock:
            cached = self._customer_ids
            if cached is None or cached[0] != idx.status.size:
                owner = idx.owner
                cid = np.where((owner < self.size) & ((idx.flags & GUEST_FLAG) == 0),
                               owner + 1, 0).astype(np.int32)
                for k, added in self.overlay.added.items():
                    cid[k] = added.customer_id
                cached = (int(idx.status.size), cid)
                self._customer_ids = cached
            return cached[1]

    def name_order(self) -> IntArray:
        """Customer positions (id-1) sorted by username, computed once on first use."""
        with self.lock:
            if self._name_order is None:
                names = np.array([self.username(i) for i in range(self.size)])
                self._name_order = np.argsort(names, kind="stable").astype(np.int32)
            return self._name_order

    def review_products(self) -> npt.NDArray[np.int16]:
        """The product id of every review, computed once on first use."""
        with self.lock:
            if self._review_products is None:
                self._review_products = np.array(
                    [self.review_product(i) for i in range(self.index.r_person.size)],
                    dtype=np.int16)
            return self._review_products

    # ---------------------------------------------------------------- people
    def person(self, p: int) -> PersonRow:
        """First name, last name, e-mail, username and address of person ``p`` (cached)."""
        hit = self._person_cache.get(p)
        if hit is not None:
            return hit
        made = self._make_person(p)
        if len(self._person_cache) > 200_000:
            self._person_cache.clear()
        self._person_cache[p] = made
        return made

    def _make_person(self, p: int) -> PersonRow:
        rng = self.rng("person", p)
        first = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        total_w = sum(c[1] for c in COUNTRIES)
        pick = rng.randrange(total_w)
        for country in COUNTRIES:
            pick -= country[1]
            if pick < 0:
                break
        code, _, cities, pc_pattern, national, international = country
        domain = DOMAINS[rng.randrange(len(DOMAINS))]
        email = f"{slug(first)}.{slug(last)}{p}@{domain}"
        username = f"{slug(first)}{slug(last)}{p}"
        if p == 0:
            email, username = f"admin0@{DOMAINS[0]}", "admin"
        phone_kind = rng.random()
        if phone_kind < 0.45:
            phone = fill(national, rng)
        elif phone_kind < 0.85:
            phone = fill(international, rng)
        else:
            phone = ""
        addr = Address(
            first_name=first, last_name=last,
            company="Koffiebar BV" if rng.random() < 0.05 else "",
            address_1=f"{STREETS[rng.randrange(len(STREETS))]} {rng.randrange(1, 200)}",
            address_2="", city=cities[rng.randrange(len(cities))], state="",
            postcode=fill(pc_pattern, rng), country=code, email=email, phone=phone,
        )
        return first, last, email, username, addr

    def username(self, p: int) -> str:
        """Person ``p``'s username, without deriving the rest of the person."""
        if p == 0:
            return "admin"
        rng = self.rng("person", p)
        first = FIRST_SLUGS[rng.randrange(len(FIRST_NAMES))]
        return f"{first}{LAST_SLUGS[rng.randrange(len(LAST_NAMES))]}{p}"

    def orders_of_person(self, p: int) -> list[int]:
        """Order indexes of person ``p``: generated ones by creation, then added ones."""
        idx = self.index
        start, end = int(idx.cum[p]), int(idx.cum[p + 1])
        ids = [int(idx.ids_by_person[k]) for k in range(start, end)]
        ids.extend(self.overlay.person_added.get(p, ()))
        return ids

    def customer(self, p: int) -> Customer:
        """Registered person ``p`` as a customer record."""
        idx, ov = self.index, self.overlay
        first, last, email, username, addr = self.person(p)
        phase = PHASES[int(idx.phase[p])]
        role = ROLES[int(idx.role[p])]
        with self.lock:
            idxs = self.orders_of_person(p)
            statuses = [int(idx.status[k]) for k in idxs]
            pmod = ov.person_modified(p)
            meta_over = ov.customer_meta.get(p)
            fields = ov.customer_fields.get(p)
        paying = any(s in (PROCESSING_CODE, COMPLETED_CODE, REFUNDED_CODE) for s in statuses)
        bought = bool(idxs)
        optin_at = None
        meta: tuple[MetaEntry, ...] = ()
        if idx.newsletter[p]:
            optin_at = self.dt(int(idx.registered[p]) + 120)
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
            date_created=self.dt(int(idx.registered[p])), date_modified=self.dt(pmod),
            is_paying_customer=paying, newsletter_optin_at=optin_at, meta_data=meta,
            rhythm_days=int(idx.rhythm[p]),
        )

    # ---------------------------------------------------------------- orders
    def lines(self, phase: int, rng: random.Random) -> list[tuple[int, int]]:
        """``(product_id, quantity)`` lines of a basket filled by someone in ``phase``."""
        table = _CUM_COFFEE if phase == PHASE_CODE[Phase.REPEAT_BUYER] and rng.random() < 0.7 \
            else _CUM
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

    def refund_id(self, k: int) -> int:
        """The id of order index ``k``'s refund (ids above every order id)."""
        return int(10 ** (len(str(FIRST_ORDER_ID + self.index.n_orders)) + 1)) + k

    def order(self, order_id: int, include_trash: bool = True) -> Order | None:
        """The order with this id, or None; trash orders only when ``include_trash``."""
        idx = self.index
        k = order_id - FIRST_ORDER_ID
        if k < 0 or k >= idx.status.size:
            return None
        with self.lock:
            code = int(idx.status[k])
            created = int(idx.created[k])
            modified = int(idx.modified[k])
            flags = int(idx.flags[k])
            p = int(idx.owner[k])
            change = self.overlay.orders.get(k)
            extra = self.overlay.added.get(k)
        if code == TRASH_CODE and not include_trash:
            return None
        rng = self.rng("order", k)
        phase = int(idx.phase[p])
        first, last, email, _, addr = self.person(p)
        guest = bool(flags & GUEST_FLAG)
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
        lines = list(extra.products) if extra is not None else self.lines(phase, rng)
        items = []
        for j, (pid, qty) in enumerate(lines):
            prod = self.product_by_id[pid]
            items.append(LineItem(id=k * 6 + j + 1, product_id=pid, name=prod.name, sku=prod.sku,
                                  quantity=qty, price=prod.price,
                                  total=cents(prod.price * qty)))
        items_total = sum((li.total for li in items), Decimal("0.00"))
        shipping_total = Decimal("0.00") if items_total >= 50 else Decimal("4.95")
        total_tax = Decimal("0.00")
        total = cents(items_total + shipping_total + total_tax)

        # payment, completion and refund dates come from the generated modification time (or
        # the change that refunded the order): a later edit, such as a meta write-back, bumps
        # date_modified but moves none of them
        generated_code, settled = self.overlay.generated_order(k)
        if change is not None and change.status is not None:
            code = change.status
        if change is not None and change.modified is not None:
            modified = change.modified
        if code == REFUNDED_CODE and generated_code != REFUNDED_CODE:
            settled = self.overlay.refunded_at(k, modified)  # refunded by a change
        status = STATUSES[code]
        previous = OrderStatus.COMPLETED if status is OrderStatus.TRASH else None
        paid, completed = _payment_times(code, created, settled, flags, change)
        refunds: list[Refund] = []
        refund_at = self.dt(settled)
        if code == REFUNDED_CODE:
            refunds.append(Refund(self.refund_id(k), order_id, total,
                                  REFUND_REASONS[rng.randrange(len(REFUND_REASONS))],
                                  refund_at))
        elif flags & PARTIAL_REFUND_FLAG and code in (COMPLETED_CODE, TRASH_CODE):
            cheapest = min(items, key=lambda li: li.price)
            amount = cheapest.price
            if amount >= total:
                amount = cents(total / 2)
            refunds.append(Refund(self.refund_id(k), order_id, cents(amount),
                                  REFUND_REASONS[rng.randrange(len(REFUND_REASONS))],
                                  refund_at))
        meta: list[MetaEntry] = []
        if status is OrderStatus.TRASH:
            base = 2 * idx.n_people + 2 * k
            meta = [MetaEntry(base + 1, "_wp_trash_meta_status", "wc-completed"),
                    MetaEntry(base + 2, "_wp_trash_meta_time", str(self.origin + modified))]
        # only orders generated completed shipped tracked (a later status write adds none)
        shipment = self.shipment(k, code, completed) if status is OrderStatus.COMPLETED \
            and generated_code == code else None
        if shipment is not None:
            slug, number, shipped = shipment
            meta = [MetaEntry(2 * idx.n_people + 2 * k + 1, "_wc_shipment_tracking_items", [{
                "tracking_provider": slug, "custom_tracking_provider": "",
                "custom_tracking_link": "", "tracking_number": number,
                "date_shipped": str(self.origin + shipped),
                "tracking_id": hashlib.md5(number.encode(), usedforsecurity=False).hexdigest(),
            }])]
        if change is not None and change.meta is not None:
            meta = list(change.meta)
        elif extra is not None:
            meta = list(extra.meta)
        method = rng.choice(_PAYMENTS)
        bits = rng.getrandbits(78)
        order_key = "wc_order_" + "".join(_KEY_CHARS[(bits >> (6 * i)) % 62] for i in range(13))
        transaction = f"tr_{rng.randrange(10**8, 10**10)}" if paid is not None else ""
        return Order(
            id=order_id, person_index=p, customer_id=customer_id, status=status,
            previous_status=previous, date_created=self.dt(created),
            date_modified=self.dt(modified),
            date_paid=self.dt(paid) if paid is not None else None,
            date_completed=self.dt(completed) if completed is not None else None,
            billing=billing, shipping=shipping, line_items=tuple(items),
            shipping_line_id=k * 6 + 5, shipping_total=shipping_total, total_tax=total_tax,
            total=total, refunds=tuple(refunds), meta_data=tuple(meta), order_key=order_key,
            transaction_id=transaction,
            customer_ip_address=f"203.0.113.{rng.randrange(1, 255)}",
            customer_user_agent=USER_AGENTS[rng.randrange(len(USER_AGENTS))],
            payment_method=method[0], payment_method_title=method[1],
            created_via="store-api" if status is OrderStatus.CHECKOUT_DRAFT else "checkout",
        )

    # ---------------------------------------------------------------- reviews
    def review(self, review_id: int) -> Review | None:
        """The review with this id, or None."""
        idx = self.index
        r = review_id - FIRST_REVIEW_ID
        if r < 0 or r >= idx.r_person.size:
            return None
        p = int(idx.r_person[r])
        first, last, email, _, _ = self.person(p)
        rng = self.rng("review", r)
        rating = int(idx.r_rating[r])
        text = rng.choice(REVIEW_TEXTS_HIGH if rating >= 4 else REVIEW_TEXTS_LOW)
        if rng.random() < 0.2:
            email = email[:1].upper() + email[1:]
        k = int(idx.r_order[r])
        return Review(
            id=review_id, person_index=p, order_id=FIRST_ORDER_ID + k if k >= 0 else None,
            product_id=self.review_product(r), reviewer=f"{first} {last}",
            reviewer_email=email, review=text, rating=rating, verified=k >= 0,
            status="hold" if idx.r_status[r] else "approved",
            date_created=self.dt(int(idx.r_created[r])),
        )

    def review_product(self, r: int) -> int:
        """The product review position ``r`` is about (the reviewed order's first line)."""
        k = int(self.index.r_order[r])
        if k < 0:
            rng = self.rng("review", r)
            return self.products[rng.randrange(len(self.products))].id
        o = self.order(FIRST_ORDER_ID + k, include_trash=True)
        assert o is not None
        return o.line_items[0].product_id


def _payment_times(code: int, created: int, modified: int, flags: int, change: OrderChange | None
                   ) -> tuple[int | None, int | None]:
    """When an order in status ``code`` was paid and completed (None: never), from its dates
    and what was written to it."""
    paid: int | None = created + 600 if code in _PAID_CODES else None
    completed: int | None = None
    if code in (COMPLETED_CODE, TRASH_CODE):
        completed = modified if not flags & PARTIAL_REFUND_FLAG else created + (
            modified - created) // 3
    elif code == REFUNDED_CODE:
        completed = created + (modified - created) // 3
    if change is not None:
        if change.paid is not None:
            paid = change.paid
        if change.completed is not None:
            completed = change.completed
    return paid, completed
